import { createHash } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import { ErrorCode, createCounter, type Logger, type Metrics, type Rate, type RateLimitConfig } from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** The label of `fitsync_gateway_rate_limited_total`: which limit refused. */
export type LimitName = 'login_account' | 'login_address' | 'register_address' | 'operations' | 'live_connections';

/** A request refused by a limit: answered RATE_LIMITED, 429, `Retry-After: retryAfter`. */
export interface Refusal {
  limit: LimitName;
  /** Whole seconds, at least 1. */
  retryAfter: number;
  message: string;
}

/** What became of one `login` field: its password was right, wrong, or never checked (skipped, refused input, not run). */
export type LoginOutcome = 'success' | 'failure' | 'unchecked';

/** Points spent for the login and register fields of one operation, settled once its result is known. */
export interface AuthReservation {
  /** One outcome per email given to `reserveAuth`, in order; register fields not run (`registrationsRun` of those reserved) get their point back. */
  settle(logins: LoginOutcome[], registrationsRun: number): Promise<void>;
}

/** A live connection counted against its user's cap until `release()` (idempotent). */
export interface LiveSlot {
  release(): void;
}

export interface RateLimits {
  /** Spends one operation of the budget of a user (`user:<id>`) or an anonymous address (`address:<ip>`). */
  operation(key: string): Promise<Refusal | undefined>;
  /**
   * Before a mutation with `login`/`register` fields runs: one point per login field from its
   * account and from the address, one per register field from the address. A login is
   * charged as a failure until its outcome says otherwise, so fifty aliased logins in one
   * document need fifty points and cannot get fifty guesses for the price of one. Refused
   * when any limit is spent or blocked (nothing is spent then).
   */
  reserveAuth(address: string, emails: (string | undefined)[], registrations: number): Promise<AuthReservation | Refusal>;
  /** A WebSocket or SSE connection of `user`; refused over the cap. */
  liveConnection(user: string): LiveSlot | Refusal;
  close(): Promise<void>;
}

export const isRefusal = (value: unknown): value is Refusal => typeof value === 'object' && value !== null && 'retryAfter' in value && 'limit' in value;

/**
 * The GraphQL error of a refusal; for Apollo (`http`), with its HTTP 429 and Retry-After.
 * Without: for graphql-ws, which sends the error as it is.
 */
export function rateLimitedError(refusal: Refusal, opts: { http?: boolean } = { http: true }): GraphQLError {
  const extensions: Record<string, unknown> = { code: ErrorCode.RATE_LIMITED, limit: refusal.limit, retryAfter: refusal.retryAfter };
  // Apollo reads a HeaderMap here (another package's typing of `http` says a plain record).
  if (opts.http) extensions.http = { status: 429, headers: new HeaderMap([['retry-after', String(refusal.retryAfter)]]) };
  return new GraphQLError(refusal.message, { extensions });
}

/** The same error as a formatted result (for answers built outside Apollo's error path). */
export const rateLimitedBody = (refusal: Refusal) => ({
  errors: [{ message: refusal.message, extensions: { code: ErrorCode.RATE_LIMITED, limit: refusal.limit, retryAfter: refusal.retryAfter } }],
});

/** Emails as the users subgraph matches them (`lower(email) = lower(trim(...))`), hashed: Redis never holds an address book. */
export const accountKey = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('base64url').slice(0, 32);

/**
 * The key of a client address: an IPv4 address as it is (`::ffff:127.0.0.1` is 127.0.0.1,
 * whichever socket family it came on), an IPv6 address by its /64, the block one subscriber
 * is given (counting single IPv6 addresses would hand every client 2^64 budgets).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  let key = addressKeys.get(address);
  if (key === undefined) addressKeys.set(address, (key = keyOfAddress(address)));
  return key;
}

/** Every operation asks for its address's key: parsed once per address (a client keeps its address), at most this many kept. */
const addressKeys = new LRUCache<string, string>({ max: 10_000 });

function keyOfAddress(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

interface Limiter {
  name: LimitName;
  limiter: RateLimiterAbstract;
  points: number;
  /** Counts breaches per key, for the growing block (login limits only). */
  breaches?: RateLimiterAbstract;
}

/** The longest a request waits for the shared count in Redis before the in-memory insurance limiter decides. */
export const REDIS_LIMIT_TIMEOUT_MS = 500;

/** A live connection cap frees up when another connection of the user closes, which no clock says: a short wait. */
const LIVE_RETRY_SECONDS = 5;

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The gateway's limits on rate-limiter-flexible: in Redis with REDIS_URL (one count for
 * every replica, atomic increments; an in-memory insurance limiter answers while Redis is
 * away), else in this process. Keys live under `<EVENTS_PREFIX>:ratelimit:`.
 */
export function createRateLimits(config: RateLimitConfig, opts: { redisUrl?: string; prefix: string; metrics: Metrics; log: Logger }): RateLimits {
  const refused = createCounter(opts.metrics, {
    name: 'fitsync_gateway_rate_limited_total',
    help: 'Requests and connections the gateway refused with RATE_LIMITED, by limit',
    labelNames: ['limit'] as const,
  });
  // Every request waits on this connection, so no command may outlive REDIS_LIMIT_TIMEOUT_MS: one
  // in flight when Redis dies is otherwise kept by ioredis until a connection is READY again (a
  // load balancer or proxy in front of Redis accepts and hangs up meanwhile, so its retry count
  // never runs out), and its request with it. Past the timeout the insurance limiter answers.
  // Nothing is resent after a reconnection: the request it belonged to was counted already.
  const redis = opts.redisUrl
    ? new Redis(opts.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: REDIS_LIMIT_TIMEOUT_MS,
        autoResendUnfulfilledCommands: false,
      })
    : undefined;
  // Once per outage, not once per reconnection attempt.
  let away = false;
  redis?.on('error', (err: Error) => {
    if (!away) opts.log.warn({ err: err.message }, 'rate limits: Redis unavailable, each gateway counts in memory meanwhile');
    away = true;
  });
  redis?.on('ready', () => {
    if (away) opts.log.info('rate limits: Redis is back, counts are shared again');
    away = false;
  });
  const make = (name: string, rate: Rate): RateLimiterAbstract => {
    const keyPrefix = `${opts.prefix}:ratelimit:${name}`;
    const base = { keyPrefix, points: rate.points, duration: rate.seconds };
    return redis
      ? new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(base) })
      : new RateLimiterMemory(base);
  };
  const limiter = (name: LimitName, rate: Rate | null, growing = false): Limiter | undefined => {
    if (!rate) return undefined;
    // A breach is remembered long enough for the doubling to reach the maximum block.
    const memory = Math.max(2 * config.loginBlockMaxSeconds, rate.seconds);
    return {
      name,
      limiter: make(name, rate),
      points: rate.points,
      breaches: growing ? make(`${name}:breaches`, { points: 1_000_000, seconds: memory }) : undefined,
    };
  };
  const loginAccount = limiter('login_account', config.loginPerAccount, true);
  const loginAddress = limiter('login_address', config.loginPerAddress, true);
  const register = limiter('register_address', config.registerPerAddress);
  const operations = limiter('operations', config.operations);
  const live = new Map<string, number>();

  /** A refusal by `l`; counted in the metric by whoever answers with it (once per request). */
  const refusal = (l: Limiter, ms: number, message: string): Refusal => ({
    limit: l.name,
    retryAfter: seconds(ms),
    message: `${message}; try again in ${seconds(ms)} s`,
  });
  const answered = (r: Refusal) => {
    refused.inc({ limit: r.limit });
    return r;
  };

  /** Spends `n` points of `key`: undefined when allowed, else how long (ms) until it may try again. */
  async function spend(l: Limiter, key: string, n: number): Promise<number | undefined> {
    try {
      await l.limiter.consume(key, n);
      return undefined;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        // Neither Redis nor the insurance limiter answered: let the request through rather than lock everyone out.
        opts.log.error({ err, limit: l.name }, 'rate limit not checked');
        return undefined;
      }
      // The spend that went over the limit (exactly one does: the increment is atomic) starts a block,
      // twice as long as the one before for this key, up to the maximum.
      if (l.breaches && err.consumedPoints - n <= l.points) {
        try {
          const breach = await l.breaches.penalty(key, 1);
          const block = Math.min(
            config.loginBlockSeconds * 2 ** Math.min(breach.consumedPoints - 1, 30),
            Math.max(config.loginBlockMaxSeconds, config.loginBlockSeconds),
          );
          await l.limiter.block(key, block);
          return block * 1000;
        } catch (blockErr) {
          // Still refused, until the window ends instead of for a block.
          opts.log.error({ err: blockErr, limit: l.name }, 'rate limit block not set');
        }
      }
      return err.msBeforeNext;
    }
  }
  const give = (l: Limiter | undefined, key: string, n: number) => (l && n > 0 ? l.limiter.reward(key, n).then(() => undefined) : Promise.resolve());
  const guarded = (work: Promise<unknown>) => work.then(undefined, (err: unknown) => opts.log.error({ err }, 'rate limit not settled'));

  return {
    async operation(key) {
      if (!operations) return undefined;
      const ms = await spend(operations, key, 1);
      return ms === undefined ? undefined : answered(refusal(operations, ms, 'Too many requests'));
    },

    async reserveAuth(address, emails, registrations) {
      const accounts = new Map<string, number>();
      for (const email of emails) if (email !== undefined) accounts.set(accountKey(email), (accounts.get(accountKey(email)) ?? 0) + 1);
      const wanted: [Limiter | undefined, string, number, string][] = [
        [loginAddress, address, emails.length, 'Too many failed logins from this address'],
        ...[...accounts].map(([key, n]): [Limiter | undefined, string, number, string] => [loginAccount, key, n, 'Too many failed logins for this account']),
        [register, address, registrations, 'Too many registrations from this address'],
      ];
      const spent: [Limiter, string, number][] = [];
      let worst: Refusal | undefined;
      for (const [l, key, n, message] of wanted) {
        if (!l || n === 0) continue;
        const ms = await spend(l, key, n);
        if (ms === undefined) spent.push([l, key, n]);
        else if (!worst || seconds(ms) > worst.retryAfter) worst = refusal(l, ms, message);
      }
      if (worst) {
        await guarded(Promise.all(spent.map(([l, key, n]) => give(l, key, n))));
        return answered(worst);
      }
      return {
        async settle(outcomes, registrationsRun) {
          const work: Promise<unknown>[] = [give(register, address, registrations - registrationsRun)];
          // Successes do not count against the address, but do not reset it: one account of its
          // own would otherwise let an address guess at every other account forever.
          work.push(give(loginAddress, address, outcomes.filter((o) => o !== 'failure').length));
          const refunds = new Map<string, number>();
          const proven = new Set<string>();
          outcomes.forEach((outcome, i) => {
            const email = emails[i];
            if (email === undefined) return;
            const key = accountKey(email);
            if (outcome === 'success') proven.add(key);
            else if (outcome === 'unchecked') refunds.set(key, (refunds.get(key) ?? 0) + 1);
          });
          if (loginAccount) {
            // The right password resets its account (and the growth of its blocks).
            for (const key of proven) work.push(loginAccount.limiter.delete(key), loginAccount.breaches!.delete(key));
            for (const [key, n] of refunds) if (!proven.has(key)) work.push(give(loginAccount, key, n));
          }
          await guarded(Promise.all(work));
        },
      };
    },

    liveConnection(user) {
      const cap = config.liveConnections;
      if (cap === null) return { release: () => undefined };
      const open = live.get(user) ?? 0;
      if (open >= cap) {
        refused.inc({ limit: 'live_connections' });
        return { limit: 'live_connections', retryAfter: LIVE_RETRY_SECONDS, message: `Too many live connections: at most ${cap} at once per user` };
      }
      live.set(user, open + 1);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const left = (live.get(user) ?? 1) - 1;
          if (left > 0) live.set(user, left);
          else live.delete(user);
        },
      };
    },

    async close() {
      redis?.disconnect();
    },
  };
}
