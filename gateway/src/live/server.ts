import { GraphQLError } from 'graphql';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ServiceMap } from '@apollo/gateway';
import type { LiveBus } from '@fitsync/live';
import { CORRELATION_HEADER, headerValue, type Clock, type Logger, type TokenVerifier } from '@fitsync/service-kit';
import type { RequestHandler } from 'express';
import type { ValidationRule } from 'graphql';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../context.js';
import { SubscriptionExecutor, type PreparedSubscription } from './executor.js';
import { LiveRouter } from './router.js';
import { LiveStream } from './stream.js';

/** Live subscriptions on the gateway (`createGateway`'s `live` option). */
export interface LiveOptions {
  /** Where subgraphs publish live messages: Redis across processes, or in-process. */
  bus: LiveBus;
  /** WebSocket ping interval; a client that misses a pong by the next ping is dropped. Default 12 s. */
  keepAliveMs?: number;
  /** Events queued for one subscription before its client is cut off. Default 100. */
  maxQueuedEvents?: number;
  /** Bytes written to one connection and not yet read before its client is cut off. Default 1 MiB. */
  maxBufferedBytes?: number;
  /**
   * How often one timer checks every connection's token against the gateway's clock. A
   * subscription ends within this interval of its token expiring, and never delivers a
   * message after it (each message is checked too). Default 1 s.
   */
  expiryCheckMs?: number;
}

export interface LiveServer {
  /** The GraphQL-over-SSE handler, for `/graphql` requests that accept `text/event-stream`. */
  sse: RequestHandler;
  /** Subscriptions open now (both transports). */
  active(): number;
  /**
   * Serves a new supergraph (after a hot reload): new subscriptions use it, running ones
   * whose operation is still valid go on under it, the others end with a
   * GRAPHQL_VALIDATION_FAILED error saying why. Returns how many went on and ended.
   */
  updateSupergraph(supergraphSdl: string): { kept: number; ended: number };
  /** Completes every subscription (clients get `complete`), then closes the connections. */
  close(): Promise<void>;
}

interface Deps {
  httpServer: Server;
  supergraphSdl: string;
  services: () => ServiceMap;
  validationRules: ValidationRule[];
  verifier: TokenVerifier;
  /** The gateway's clock: tokens expire by it. */
  clock: Clock;
  log: Logger;
  options: LiveOptions;
}

/** What one connection (a WebSocket, or one SSE request) knows about its client. */
interface Session {
  context: GatewayContext;
  streams: Set<LiveStream>;
  /** When the token expires (epoch ms on the gateway's clock). */
  expiresAt: number;
  backlog(): number;
  cutOff(reason: string): void;
  /** Tells the client its token expired, after its streams ended (WebSocket: close 4403; SSE: the response completes). */
  expired(): void;
}

type OperationValue = { session: Session; subscription: PreparedSubscription };

/** Close codes: graphql-ws uses 4403 for a refused connection_init; the others are WebSocket's own. */
const FORBIDDEN = 4403;
const POLICY_VIOLATION = 1008;

/**
 * Serves subscriptions on the gateway's `/graphql`: the graphql-ws protocol on WebSocket
 * upgrades of the HTTP server, and GraphQL over SSE (distinct connections) for requests
 * that accept `text/event-stream`. The token comes with `connection_init`
 * (`{ authorization: "Bearer ..." }`) or the SSE request's Authorization header; a
 * subscription ends when its token expires.
 */
export function createLiveServer(deps: Deps): LiveServer {
  const { log, verifier, clock } = deps;
  const opts = { keepAliveMs: 12_000, maxQueuedEvents: 100, maxBufferedBytes: 1 << 20, expiryCheckMs: 1_000, ...deps.options };
  let executor = new SubscriptionExecutor(deps.supergraphSdl, deps.services, deps.validationRules, log);
  const router = new LiveRouter(opts.bus, log);
  const sessions = new Set<Session>();
  let closing = false;

  async function openSession(authorization: string | undefined, correlationId: string | undefined, io: Pick<Session, 'backlog' | 'cutOff' | 'expired'>) {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return undefined;
    const user = await verifier.verifyUser(token).catch(() => undefined);
    if (!user) return undefined;
    const id = correlationId ?? randomUUID();
    const session: Session = {
      context: { correlationId: id, viewer: { id: user.id, role: user.role }, authorization, log: log.child({ correlationId: id, userId: user.id }) },
      streams: new Set(),
      expiresAt: user.exp * 1000,
      ...io,
    };
    sessions.add(session);
    return session;
  }

  function closeSession(session: Session) {
    for (const stream of session.streams) stream.end();
    sessions.delete(session);
  }

  /** Ends a session whose token has expired by the gateway's clock. */
  function endIfExpired(session: Session, now = clock().getTime()) {
    if (now < session.expiresAt || !sessions.has(session)) return;
    closeSession(session);
    session.expired();
  }

  // One timer for every connection: a pinned clock (tests) moves without timers firing,
  // and thousands of sessions need not hold thousands of timers.
  const sweep = setInterval(() => {
    const now = clock().getTime();
    for (const session of [...sessions]) endIfExpired(session, now);
  }, opts.expiryCheckMs);
  sweep.unref();

  function startStream({ session, subscription }: OperationValue) {
    const stream = new LiveStream({
      router,
      executor,
      subscription,
      context: session.context,
      maxQueued: opts.maxQueuedEvents,
      maxBuffered: opts.maxBufferedBytes,
      backlog: session.backlog,
      cutOff: session.cutOff,
      checkExpiry: () => endIfExpired(session),
    });
    session.streams.add(stream);
    void stream.finished.then(() => session.streams.delete(stream));
    return stream;
  }

  const wss = new WebSocketServer({ server: deps.httpServer, path: '/graphql', maxPayload: 1 << 20 });
  const sessionOf = new WeakMap<object, Session>();
  const ws = useServer(
    {
      onConnect: async (ctx) => {
        if (closing) return false;
        const { socket, request } = ctx.extra;
        const params = ctx.connectionParams ?? {};
        const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
        const authorization = key && typeof params[key] === 'string' ? (params[key] as string) : undefined;
        const session = await openSession(
          authorization,
          headerValue(request.headers, CORRELATION_HEADER),
          {
            backlog: () => socket.bufferedAmount,
            cutOff: (reason) => {
              socket.close(POLICY_VIOLATION, reason.slice(0, 120));
              // The close frame queues behind what the client is not reading.
              setTimeout(() => socket.terminate(), 1_000).unref();
            },
            expired: () => socket.close(FORBIDDEN, 'Forbidden: token expired'),
          },
        );
        if (!session) return false;
        sessionOf.set(ctx, session);
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        const session = sessionOf.get(ctx)!;
        const prepared = executor.prepare(payload);
        if (Array.isArray(prepared)) return prepared;
        const contextValue: OperationValue = { session, subscription: prepared };
        return { schema: executor.schema, document: prepared.document, operationName: prepared.operationName, variableValues: prepared.variables, contextValue };
      },
      subscribe: (args) => startStream(args.contextValue as OperationValue),
      onClose: (ctx) => {
        const session = sessionOf.get(ctx);
        if (session) closeSession(session);
      },
    },
    wss,
    opts.keepAliveMs,
  );

  const sseHandler = createSseHandler<OperationValue>({
    onSubscribe: async (req, params) => {
      const raw = req.raw;
      const res = req.context.res;
      if (closing) return [null, { status: 503, statusText: 'Shutting down' }];
      const session = await openSession(
        headerValue(raw.headers, 'authorization'),
        headerValue(raw.headers, CORRELATION_HEADER),
        {
          backlog: () => res.writableLength,
          cutOff: () => res.destroy(),
          // Its streams have ended: graphql-sse sends `complete` and ends the response.
          expired: () => {},
        },
      );
      if (!session) {
        const body = JSON.stringify({ errors: [{ message: 'A valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
        return [body, { status: 401, statusText: 'Unauthorized', headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
      res.once('close', () => closeSession(session));
      const prepared = executor.prepare({ query: params.query, operationName: params.operationName, variables: params.variables });
      if (Array.isArray(prepared)) {
        closeSession(session);
        return { errors: prepared };
      }
      const contextValue: OperationValue = { session, subscription: prepared };
      return { schema: executor.schema, document: prepared.document, operationName: prepared.operationName, variableValues: prepared.variables, contextValue };
    },
    subscribe: (args) => startStream(args.contextValue),
  });

  return {
    sse: (req, res, next) => {
      if (!req.headers.accept?.includes('text/event-stream')) return next();
      sseHandler(req, res).catch(next);
    },
    active: () => [...sessions].reduce((n, s) => n + s.streams.size, 0),
    updateSupergraph(supergraphSdl) {
      const next = new SubscriptionExecutor(supergraphSdl, deps.services, deps.validationRules, log);
      executor = next;
      let kept = 0;
      let ended = 0;
      for (const stream of [...sessions].flatMap((s) => [...s.streams])) {
        const adopted = next.adopt(stream.subscription);
        if (Array.isArray(adopted)) {
          ended++;
          const reasons = adopted.map((e) => e.message).join('; ');
          stream.endWith({
            errors: [
              new GraphQLError(`Subscription ended: the schema changed and this operation is no longer valid (${reasons})`, {
                extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
              }),
            ],
          });
        } else {
          kept++;
          stream.replan(next, adopted);
        }
      }
      log.info({ kept, ended }, 'subscriptions moved to the new supergraph');
      return { kept, ended };
    },
    async close() {
      closing = true;
      clearInterval(sweep);
      const finishing = [...sessions].flatMap((s) => [...s.streams].map((stream) => stream.finished));
      for (const session of [...sessions]) closeSession(session);
      // Let graphql-ws and graphql-sse send `complete` for each before the connections go.
      await Promise.race([Promise.all(finishing), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await new Promise((r) => setImmediate(r));
      await ws.dispose();
      await router.close();
    },
  };
}
