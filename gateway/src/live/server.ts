import type { Server } from 'node:http';
import type { ServiceMap } from '@apollo/gateway';
import type { LiveBus } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, headerValue, sendGraphQLError, type Clock, type Logger, type SubscriptionTransport } from '@fitsync/service-kit';
import type { Request, RequestHandler } from 'express';
import { GraphQLError, type ParseOptions, type ValidationRule } from 'graphql';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { addressKey, isRefusal, rateLimitedBody, rateLimitedError, type RateLimits, type Refusal } from '../rate-limits.js';
import type { CostLimit } from '../request-rules.js';
import type { DocumentGate } from '../trusted/registry.js';
import { SubscriptionExecutor, type PreparedSubscription } from './executor.js';
import { UpstreamSubscriptions, type UpstreamRequest } from './upstream.js';
import { Limiter } from './limiter.js';
import { LiveRouter } from './router.js';
import type { UserAuthenticator } from '../identity.js';
import type { GatewayContext } from '../context.js';
import { Sessions, isRefusal as isSessionRefusal, type Session } from './sessions.js';
import { LiveStream, type Feeds } from './stream.js';

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
  /**
   * Live events resolved at once by this gateway (each a primary fetch to the subgraph that
   * owns the field, then the rest of the selection); the others wait their turn in arrival
   * order, before their subgraph deadline starts. Default DEFAULT_MAX_CONCURRENT_EVENTS.
   */
  maxConcurrentEvents?: number;
}

/**
 * Live events resolved at once by default. Each one in flight holds a keep-alive socket to the
 * subgraph, so this is also how many connections a burst of events may open: at 256, a burst
 * opened up to 256 at once, which a busy subgraph accepts slowly (listen-queue overflows, SYN
 * retransmits a second apart), and the fetches on them passed the subgraph deadline unanswered
 * (bench:subscriptions at 1,000 subscribers: 400-800 of 10,000 messages lost, max 5 s). One
 * subgraph process answers no faster with more requests at once than a few dozen; the rest wait
 * here, in order, with their deadline not yet running.
 */
export const DEFAULT_MAX_CONCURRENT_EVENTS = 32;

export interface LiveServer {
  /** The GraphQL-over-SSE handler, for `/graphql` requests that accept `text/event-stream`. */
  sse: RequestHandler;
  /** Subscriptions open now (both transports). */
  active(): number;
  /** Subscriptions the gateway holds open to subgraphs that serve their own (each shared by identical client subscriptions). */
  upstreamActive(): number;
  /** Connections the gateway holds open to those subgraphs: one per caller and subgraph, carrying all that caller's upstream subscriptions. */
  upstreamConnections(): number;
  /** The same by Subscription field (every field the supergraph serves, 0 for those nobody follows). */
  subscribersByField(): Map<string, number>;
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
  /** The parser's limits (MAX_TOKENS), as for HTTP. */
  parseOptions?: ParseOptions;
  /** Checks the token of each connection, as for HTTP. */
  users: UserAuthenticator;
  /** MAX_OPERATION_COST (and the cost metric), as for HTTP. */
  cost?: Omit<CostLimit, 'calculator' | 'report'>;
  /** The gateway's clock: tokens expire by it. */
  clock: Clock;
  log: Logger;
  /** Each subscribe spends one operation of its user's budget; each connection counts against the user's cap. */
  rateLimits?: RateLimits;
  /** The trusted-documents rule: over SSE the HTTP layer in front applies it, over WebSocket each subscribe message here. */
  documents: DocumentGate;
  options: LiveOptions;
  /** Subgraphs that serve their own subscriptions (fields without `@liveTopic`). */
  upstream: UpstreamDeps;
}

/** How the gateway reaches a subgraph's own subscriptions. */
export interface UpstreamDeps {
  /** Where the subgraph is reached now (as for its HTTP requests), given its routing URL in the supergraph. */
  url(subgraph: string, routingUrl: string | undefined): string | undefined;
  /** `<NAME>_SUBSCRIPTIONS`: graphql-ws (default) or SSE. */
  transport(subgraph: string): SubscriptionTransport;
  /** The gateway's service credential. */
  serviceToken(): Promise<string>;
  /** Upstream subscriptions open now, by subgraph (a gauge). */
  onCount?(subgraph: string, open: number): void;
}

type OperationValue = { session: Session; subscription: PreparedSubscription };

/** Close codes: graphql-ws uses 4403 for a refused connection_init; the others are WebSocket's own. */
const FORBIDDEN = 4403;
const POLICY_VIOLATION = 1008;
/** The token could not be checked now (its identity provider is out of reach): WebSocket's "try again later". */
const TRY_AGAIN_LATER = 1013;
/** A connection over the user's cap (graphql-ws's own code for too many requests), with `RATE_LIMITED: ...` as the reason. */
const TOO_MANY = 4429;

/** What both transports share: the sessions, the executor serving now, and how a subscription starts. */
interface Subscriptions {
  sessions: Sessions;
  /** Replaced when the gateway reloads its supergraph. */
  executor: SubscriptionExecutor;
  closing: boolean;
  rateLimits?: RateLimits;
  start(value: OperationValue): LiveStream;
}

/**
 * Serves subscriptions on the gateway's `/graphql`: the graphql-ws protocol on WebSocket
 * upgrades of the HTTP server, and GraphQL over SSE (distinct connections) for requests
 * that accept `text/event-stream`. The token comes with `connection_init`
 * (`{ authorization: "Bearer ..." }`) or the SSE request's Authorization header; a
 * subscription ends when its token expires.
 */
export function createLiveServer(deps: Deps): LiveServer {
  const { log } = deps;
  const opts = withDefaults(deps.options);
  const router = new LiveRouter(opts.bus, log);
  const upstream = new UpstreamSubscriptions({
    serviceToken: () => deps.upstream.serviceToken(),
    log,
    keepAliveMs: opts.keepAliveMs,
    onCount: (subgraph, open) => deps.upstream.onCount?.(subgraph, open),
  });
  const resolving = new Limiter(opts.maxConcurrentEvents);
  const executor = new SubscriptionExecutor(deps.supergraphSdl, deps.services, deps.validationRules, log, deps.parseOptions, deps.cost);
  // The broker topics the supergraph declares (`@liveTopic`), and no others.
  router.serve(executor.topics);
  /** The upstream subscription of `sub` for this caller, or why it cannot be had. */
  const upstreamRequest = (sub: PreparedSubscription, context: GatewayContext): UpstreamRequest | string => {
    if (sub.feed.kind !== 'upstream') throw new Error('not an upstream subscription');
    const { subgraph, fetch } = sub.feed;
    const url = deps.upstream.url(subgraph, subs.executor.routingUrl(subgraph));
    if (!url) return `The ${subgraph} service is unavailable: it has no routing URL`;
    return {
      subgraph,
      url,
      transport: deps.upstream.transport(subgraph),
      query: fetch.operation,
      operationName: fetch.operationName,
      variables: SubscriptionExecutor.upstreamVariables(sub),
      authorization: context.authorization,
      correlationId: context.correlationId,
    };
  };
  const feeds: Feeds = {
    key(sub, context) {
      if (sub.feed.kind === 'broker') return JSON.stringify(['broker', sub.feed.route.topic, sub.feed.route.recipients]);
      const req = upstreamRequest(sub, context);
      return typeof req === 'string' ? req : UpstreamSubscriptions.key(req);
    },
    listen(sub, context, push, end) {
      if (sub.feed.kind === 'broker') return router.listen(sub.feed.route, context.viewer!.id, (message) => push({ kind: 'broker', message }));
      const req = upstreamRequest(sub, context);
      if (typeof req === 'string') {
        end([{ message: req, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, service: sub.feed.subgraph } }]);
        return () => {};
      }
      return upstream.listen(req, { next: (result) => push({ kind: 'upstream', result }), end });
    },
  };
  const subs: Subscriptions = {
    sessions: new Sessions({ users: deps.users, clock: deps.clock, log, expiryCheckMs: opts.expiryCheckMs }),
    executor,
    closing: false,
    rateLimits: deps.rateLimits,
    start: ({ session, subscription }) => {
      const stream = new LiveStream({
        feeds,
        executor: subs.executor,
        subscription,
        context: session.context,
        maxQueued: opts.maxQueuedEvents,
        maxBuffered: opts.maxBufferedBytes,
        resolving,
        backlog: () => session.backlog(),
        cutOff: (reason) => session.cutOff(reason),
        checkExpiry: () => subs.sessions.endIfExpired(session),
      });
      session.streams.add(stream);
      void stream.finished.then(() => session.streams.delete(stream));
      return stream;
    },
  };
  const ws = serveWebSocket(deps.httpServer, opts.keepAliveMs, subs, deps.documents);
  const sse = serveSse(subs);

  return {
    sse,
    active: () => subs.sessions.streams().length,
    upstreamActive: () => upstream.size,
    upstreamConnections: () => upstream.connections,
    subscribersByField() {
      const counts = new Map<string, number>(subs.executor.fields.map((field) => [field, 0]));
      for (const stream of subs.sessions.streams()) {
        const { feed } = stream.subscription;
        const field = feed.kind === 'broker' ? feed.route.field : feed.field;
        counts.set(field, (counts.get(field) ?? 0) + 1);
      }
      return counts;
    },
    updateSupergraph(supergraphSdl) {
      subs.executor = new SubscriptionExecutor(supergraphSdl, deps.services, deps.validationRules, log, deps.parseOptions, deps.cost);
      // Topics the new supergraph declares are heard from now on, before streams move to them.
      router.serve(subs.executor.topics);
      const moved = moveStreams(subs.sessions.streams(), subs.executor);
      log.info({ ...moved, topics: router.topics() }, 'subscriptions moved to the new supergraph');
      return moved;
    },
    async close() {
      subs.closing = true;
      const finishing = subs.sessions.streams().map((stream) => stream.finished);
      subs.sessions.closeAll();
      // Let graphql-ws and graphql-sse send `complete` for each before the connections go.
      await Promise.race([Promise.all(finishing), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await new Promise((r) => setImmediate(r));
      await ws.dispose();
      upstream.close();
      await router.close();
    },
  };
}

function withDefaults(options: LiveOptions): Required<LiveOptions> {
  return {
    bus: options.bus,
    keepAliveMs: options.keepAliveMs ?? 12_000,
    maxQueuedEvents: options.maxQueuedEvents ?? 100,
    maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
    expiryCheckMs: options.expiryCheckMs ?? 1_000,
    maxConcurrentEvents: options.maxConcurrentEvents ?? DEFAULT_MAX_CONCURRENT_EVENTS,
  };
}

/** What graphql-ws and graphql-sse execute for a prepared subscription (they validate nothing themselves here). */
function executionArgs(subs: Subscriptions, session: Session, prepared: PreparedSubscription) {
  const contextValue: OperationValue = { session, subscription: prepared };
  return { schema: subs.executor.schema, document: prepared.document, operationName: prepared.operationName, variableValues: prepared.variables, contextValue };
}

/** graphql-ws on the HTTP server's WebSocket upgrades to `/graphql`. */
function serveWebSocket(httpServer: Server, keepAliveMs: number, subs: Subscriptions, documents: DocumentGate) {
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1 << 20 });
  const sessionOf = new WeakMap<object, Session>();
  const slotOf = new WeakMap<object, { release(): void }>();
  return useServer(
    {
      onConnect: async (ctx) => {
        if (subs.closing) return false;
        const { socket, request } = ctx.extra;
        const params = ctx.connectionParams ?? {};
        const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
        const authorization = key && typeof params[key] === 'string' ? params[key] : undefined;
        // Upgrades do not pass through Express: the socket's address (live limits count by user).
        const address = addressKey(request.socket.remoteAddress);
        const session = await subs.sessions.open(authorization, headerValue(request.headers, CORRELATION_HEADER), address, {
          backlog: () => socket.bufferedAmount,
          cutOff: (reason) => {
            socket.close(POLICY_VIOLATION, reason.slice(0, 120));
            // The close frame queues behind what the client is not reading.
            setTimeout(() => socket.terminate(), 1_000).unref();
          },
          expired: () => socket.close(FORBIDDEN, 'Forbidden: token expired'),
        });
        if (isSessionRefusal(session)) {
          // graphql-ws closes with 4403 after this; the first close frame is the one sent.
          if (session.status === 503) socket.close(TRY_AGAIN_LATER, `Try again later: ${session.message}`.slice(0, 120));
          return false;
        }
        // Gone while its token was checked: onClose has run already and would never free a slot.
        if (socket.readyState !== socket.OPEN) {
          subs.sessions.close(session);
          return false;
        }
        const slot = subs.rateLimits?.liveConnection(session.context.viewer!.id);
        if (isRefusal(slot)) {
          subs.sessions.close(session);
          socket.close(TOO_MANY, `RATE_LIMITED: ${slot.message}`.slice(0, 120));
          return false;
        }
        if (slot) slotOf.set(ctx, slot);
        sessionOf.set(ctx, session);
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const session = sessionOf.get(ctx)!;
        const refusal = await subs.rateLimits?.operation(`user:${session.context.viewer!.id}`);
        if (refusal) return [rateLimitedError(refusal, { http: false })];
        // graphql-ws requires a string query: a subscription by id sends '' with documentId or APQ's extension.
        const resolution = documents.resolve(
          { query: payload.query, documentId: (payload as { documentId?: unknown }).documentId, extensions: payload.extensions },
          'ws',
        );
        if (!resolution.ok) return [new GraphQLError(resolution.message, { extensions: { code: resolution.code } })];
        const prepared = subs.executor.prepare({ ...payload, query: resolution.query ?? payload.query });
        return Array.isArray(prepared) ? prepared : executionArgs(subs, session, prepared);
      },
      subscribe: (args) => subs.start(args.contextValue as OperationValue),
      onClose: (ctx) => {
        const session = sessionOf.get(ctx);
        if (session) subs.sessions.close(session);
        slotOf.get(ctx)?.release();
      },
    },
    wss,
    keepAliveMs,
  );
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' };

/** GraphQL over SSE (distinct connections) for `/graphql` requests that accept `text/event-stream`. */
function serveSse(subs: Subscriptions): RequestHandler {
  const handler = createSseHandler<OperationValue>({
    onSubscribe: async (req, params) => {
      const raw = req.raw;
      const res = req.context.res;
      if (subs.closing) return [null, { status: 503, statusText: 'Shutting down' }];
      const address = addressKey(raw.ip ?? raw.socket.remoteAddress);
      const session = await subs.sessions.open(headerValue(raw.headers, 'authorization'), headerValue(raw.headers, CORRELATION_HEADER), address, {
        backlog: () => res.writableLength,
        cutOff: () => res.destroy(),
        // Its streams have ended: graphql-sse sends `complete` and ends the response.
        expired: () => {},
      });
      if (isSessionRefusal(session)) {
        const body = JSON.stringify({ errors: [{ message: session.message, extensions: { code: session.code } }] });
        return [body, { status: session.status, statusText: STATUS_TEXT[session.status], headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
      const user = session.context.viewer!.id;
      const refusal = await subs.rateLimits?.operation(`user:${user}`);
      // Gone meanwhile: no 'close' is coming to free a slot.
      if (refusal || raw.socket.destroyed) {
        subs.sessions.close(session);
        return refusal ? tooMany(refusal) : [null, { status: 499, statusText: 'Client Closed Request' }];
      }
      const slot = subs.rateLimits?.liveConnection(user);
      if (isRefusal(slot)) {
        subs.sessions.close(session);
        return tooMany(slot);
      }
      res.once('close', () => {
        subs.sessions.close(session);
        slot?.release();
      });
      const prepared = subs.executor.prepare({ query: params.query, operationName: params.operationName, variables: params.variables });
      if (Array.isArray(prepared)) {
        subs.sessions.close(session);
        // An answer of its own: graphql-sse takes a bare `{ errors }` for execution arguments ("Unable to detect operation AST").
        return [
          JSON.stringify({ errors: prepared }),
          { status: 400, statusText: 'Bad Request', headers: { 'content-type': 'application/json; charset=utf-8' } },
        ];
      }
      return executionArgs(subs, session, prepared);
    },
    subscribe: (args) => subs.start(args.contextValue),
  });
  return (req, res, next) => {
    if (!req.headers.accept?.includes('text/event-stream')) return next();
    // The body was read (within the limit) and parsed by the JSON middleware in front; what
    // graphql-sse would read or refuse itself, without a limit or a code, is refused here.
    const refusal = sseRequestProblem(req);
    if (refusal) return sendGraphQLError(res, refusal.status, 'BAD_REQUEST', refusal.message);
    handler(req, res).catch(next);
  };
}

/** graphql-sse's answer of its own for a refusal: RATE_LIMITED, 429 and Retry-After. */
function tooMany(refusal: Refusal): [string, { status: number; statusText: string; headers: Record<string, string> }] {
  return [
    JSON.stringify(rateLimitedBody(refusal)),
    {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(refusal.retryAfter) },
    },
  ];
}

/** What graphql-sse would answer with an uncoded error (or read unbounded), as a status and message. */
function sseRequestProblem(req: Request): { status: number; message: string } | undefined {
  let params: { query?: unknown; variables?: unknown };
  if (req.method === 'GET') {
    const search = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    params = { query: search.get('query') ?? undefined };
    const variables = search.get('variables');
    if (variables) {
      try {
        params.variables = JSON.parse(variables);
      } catch {
        return { status: 400, message: 'The variables parameter is not valid JSON' };
      }
    }
  } else if (req.method === 'POST') {
    if (!req.is('application/json')) return { status: 415, message: 'Send the subscription as application/json' };
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) return { status: 400, message: 'The request body must be a JSON object' };
    params = req.body as typeof params;
  } else {
    // graphql-sse's own reservations (PUT, DELETE) carry no body worth reading.
    return undefined;
  }
  if (typeof params.query !== 'string' || params.query === '') return { status: 400, message: 'The request has no query' };
  if (params.variables != null && (typeof params.variables !== 'object' || Array.isArray(params.variables))) {
    return { status: 400, message: 'variables must be a JSON object' };
  }
  return undefined;
}

/**
 * Running subscriptions under a new supergraph: those whose operation is still valid go on,
 * re-planned; the others end with a GRAPHQL_VALIDATION_FAILED error saying why.
 */
function moveStreams(streams: LiveStream[], next: SubscriptionExecutor) {
  let kept = 0;
  let ended = 0;
  for (const stream of streams) {
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
  return { kept, ended };
}
