import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { ErrorCode, type Logger } from '@fitsync/service-kit';
import { GraphQLError, OperationTypeNode } from 'graphql';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { GatewayContext } from './context.js';

/**
 * `Idempotency-Key` on mutations (as payment APIs and the IETF httpapi draft of that name
 * have it): a client on a bad network resends `createBooking` and gets the first answer
 * instead of a second booking. The first request with a key runs; a repeat with the same key
 * and the same operation (document, operation name, variables) gets the stored answer without
 * running again, also while the first is still running (it waits for it); the same key with
 * another operation is refused with CONFLICT. Keys are the caller's own (their user id, or one
 * space for anonymous callers, whose repeats must then match to the byte) and kept `ttlMs`.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

const KEY = /^[\x21-\x7e]{1,255}$/;

interface Stored {
  fingerprint: string;
  /** Absent while the first request runs. */
  answer?: { status?: number; body: unknown };
}

/** Where keys live: Redis (every replica sees them) or this process's memory. */
export interface IdempotencyStore {
  /** Claims `key` for a new request (true), or tells what holds it (false and the record). */
  claim(key: string, fingerprint: string, ttlMs: number): Promise<true | Stored>;
  /** The claimed request's answer. */
  finish(key: string, record: Stored, ttlMs: number): Promise<void>;
  /** Lets a claim go without an answer (the request never ran: refused before execution). */
  release(key: string): Promise<void>;
  read(key: string): Promise<Stored | undefined>;
  close(): Promise<void>;
}

export function memoryIdempotencyStore(max = 100_000): IdempotencyStore {
  const records = new LRUCache<string, Stored>({ max });
  return {
    async claim(key, fingerprint, ttlMs) {
      const held = records.get(key);
      if (held) return held;
      records.set(key, { fingerprint }, { ttl: ttlMs });
      return true;
    },
    async finish(key, record, ttlMs) {
      records.set(key, record, { ttl: ttlMs });
    },
    async release(key) {
      records.delete(key);
    },
    async read(key) {
      return records.get(key);
    },
    async close() {
      records.clear();
    },
  };
}

/** The longest a mutation with an Idempotency-Key waits for Redis before it is refused with SERVICE_UNAVAILABLE. */
export const IDEMPOTENCY_REDIS_TIMEOUT_MS = 2_000;

/**
 * Keys in Redis, shared by every replica. A request never waits on a Redis that is away for
 * longer than IDEMPOTENCY_REDIS_TIMEOUT_MS: nothing is queued while it is unreachable, and a
 * command in flight when it died fails at the timeout (ioredis otherwise keeps it until a
 * connection is ready again). Failures reject with `IdempotencyUnavailableError`.
 */
export function redisIdempotencyStore(url: string, prefix: string, log: Logger): IdempotencyStore {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: IDEMPOTENCY_REDIS_TIMEOUT_MS,
    autoResendUnfulfilledCommands: false,
  });
  // Once per outage, not once per reconnection attempt.
  let away = false;
  redis.on('error', (err) => {
    if (!away) log.warn({ err }, 'idempotency keys: Redis unavailable; mutations with an Idempotency-Key are refused until it is back');
    away = true;
  });
  redis.on('ready', () => {
    if (away) log.info('idempotency keys: Redis is back');
    away = false;
  });
  const name = (key: string) => `${prefix}:idempotency:${key}`;
  const parse = (raw: string | null) => (raw === null ? undefined : (JSON.parse(raw) as Stored));
  // Until the first connection is ready a command waits for it (start-up), within the same bound.
  let connectedOnce = false;
  redis.on('ready', () => (connectedOnce = true));
  const firstConnection = () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', ready);
        reject(new Error('Redis not ready'));
      }, IDEMPOTENCY_REDIS_TIMEOUT_MS);
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', ready);
    });
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      if (!connectedOnce && redis.status !== 'ready') await firstConnection();
      return await work();
    } catch (err) {
      throw new IdempotencyUnavailableError(err);
    }
  };
  return {
    claim: (key, fingerprint, ttlMs) =>
      guard(async () => {
        const set = await redis.set(name(key), JSON.stringify({ fingerprint }), 'PX', ttlMs, 'NX');
        if (set === 'OK') return true as const;
        return parse(await redis.get(name(key))) ?? { fingerprint };
      }),
    finish: (key, record, ttlMs) => guard(async () => void (await redis.set(name(key), JSON.stringify(record), 'PX', ttlMs))),
    release: (key) => guard(async () => void (await redis.del(name(key)))),
    read: (key) => guard(async () => parse(await redis.get(name(key)))),
    async close() {
      redis.disconnect();
    },
  };
}

/** The key store could not be reached: the mutation is refused before it runs (the client may send it again). */
export class IdempotencyUnavailableError extends Error {
  constructor(cause: unknown) {
    super('idempotency key store unavailable', { cause });
  }
}

const unavailable = () =>
  new GraphQLError('Idempotency keys cannot be checked right now; send the mutation again shortly', {
    extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, http: { status: 503 } },
  });

export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** How long a key is kept after its first use. */
  ttlMs: number;
  /**
   * How long a repeat waits for the first request to finish before it is refused (CONFLICT,
   * try again); also how long a claim whose request never finished (the gateway died) holds
   * the key. At least the operation deadline.
   */
  waitMs: number;
  log: Logger;
}

/** A store call in a request's way: a store that cannot answer refuses the mutation with SERVICE_UNAVAILABLE. */
async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof IdempotencyUnavailableError) throw unavailable();
    throw err;
  }
}

const conflict = (message: string, status: number) => new GraphQLError(message, { extensions: { code: ErrorCode.CONFLICT, http: { status } } });

const fingerprintOf = (request: GraphQLRequestContext<GatewayContext>['request']) =>
  createHash('sha256')
    .update(JSON.stringify([request.query ?? '', request.operationName ?? null, request.variables ?? {}, request.extensions?.persistedQuery ?? null]))
    .digest('base64url');

/** The Apollo plugin: mutations carrying `Idempotency-Key` run once per key. */
export function idempotentMutations(opts: IdempotencyOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request }) {
      const header = request.http?.headers.get(IDEMPOTENCY_HEADER);
      if (header === undefined) return {};
      /** The key this request claimed, and the fingerprint it claimed it with: its answer is stored under both. */
      let claimed: { key: string; fingerprint: string } | undefined;
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          if (!KEY.test(header)) {
            throw new GraphQLError('Idempotency-Key must be 1 to 255 visible ASCII characters', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          const key = `${contextValue.viewer?.id ?? 'anonymous'}:${createHash('sha256').update(header).digest('base64url')}`;
          const fingerprint = fingerprintOf(request);
          const held = await orUnavailable(opts.store.claim(key, fingerprint, opts.waitMs));
          if (held === true) {
            claimed = { key, fingerprint };
            return;
          }
          if (held.fingerprint !== fingerprint) throw conflict('This Idempotency-Key was used for another operation or other variables', 422);
          // A repeat: answered in responseForOperation.
          replays.set(contextValue, key);
        },
        async responseForOperation({ contextValue, response }) {
          const key = replays.get(contextValue);
          if (!key) return null;
          const answer = await orUnavailable(waitForAnswer(opts, key));
          if (!answer) throw conflict('The first request with this Idempotency-Key is still running; try again', 409);
          response.http.headers.set('idempotent-replayed', 'true');
          if (answer.status) response.http.status = answer.status;
          return { http: response.http, body: { kind: 'single', singleResult: answer.body as never } };
        },
        async willSendResponse({ response }) {
          if (!claimed) return;
          const { key, fingerprint } = claimed;
          claimed = undefined;
          // The mutation ran: its answer goes out whether or not the store takes it. A key whose answer
          // was not stored stays claimed until its claim expires (waitMs): repeats meanwhile are refused.
          try {
            if (response.body.kind !== 'single') return await opts.store.release(key);
            const record: Stored = { fingerprint, answer: { status: response.http.status, body: response.body.singleResult } };
            await opts.store.finish(key, record, opts.ttlMs);
          } catch (err) {
            opts.log.warn({ err }, 'idempotency key: answer not stored');
          }
        },
      };
    },
  };
}

/** Which requests of this process are repeats, by their context, and of which key. */
const replays = new WeakMap<GatewayContext, string>();

async function waitForAnswer(opts: IdempotencyOptions, key: string): Promise<Stored['answer']> {
  const until = performance.now() + opts.waitMs;
  let pause = 10;
  for (;;) {
    const record = await opts.store.read(key);
    if (record?.answer) return record.answer;
    if (!record || performance.now() >= until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 200);
  }
}
