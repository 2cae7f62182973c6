import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  createTransport,
  startEventRuntime,
  type EventHandlers,
  type EventRuntime,
  type EventRuntimeOptions,
  type EventTransport,
  type EventWriter,
} from '@fitsync/events';
import {
  createLiveBus,
  LIVE_BATCH_HEADER,
  LIVE_BATCH_MAX,
  LIVE_MESSAGE_EXTENSION,
  type LiveBatchEntry,
  type LiveBus,
  type LiveMessage,
  type LivePublisher,
} from '@fitsync/live';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { Logger } from 'pino';
import { recordCorrelationId } from './tracing.js';
import {
  CORRELATION_HEADER,
  SERVICE_TOKEN_HEADER,
  bearerToken,
  createServiceCredentials,
  createTokenVerifier,
  serviceSecrets,
  userSecrets,
  type ServiceCredentials,
  type TokenVerifier,
  type Viewer,
} from './auth.js';
import { systemClock, type Clock } from './clock.js';
import type { ServiceConfig, SubgraphName } from './config.js';
import { openDatabase, type Database } from './db.js';
import { ErrorCode, errorFormatter, unexpectedErrorLogging } from './errors.js';
import { inputFieldPaths } from './input-paths.js';
import { checkedTransactions, scopeMutations } from './servable.js';
import { safeTextInputs } from './text-input.js';
import { externalFieldResolvers, knownOperationTypes, representationScalar } from './validation.js';
import { createHttpApp, createServer, jsonBody, listen, recordHttpDuration, requestErrorHandlers, type Listening } from './http.js';
import { createLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { liveMessageFromBody } from './live.js';

/** What every resolver of every subgraph receives. */
export interface BaseContext {
  /** The end user, from the verified JWT; null for anonymous operations (login, register). */
  viewer: Viewer | null;
  /** The FitSync service that sent the request (`gateway`, or a subgraph). */
  caller: string;
  correlationId: string;
  /** The raw Authorization header, forwarded when this service calls another. */
  authorization?: string;
  /** What time it is: the one clock of this service (pinned in tests). Read it instead of `new Date()`. */
  clock: Clock;
  log: Logger;
  /**
   * Writes domain events into this service's outbox inside a transaction:
   * `await ctx.store.db.transaction(async (tx) => { ...change...; await ctx.events.emit(tx, 'booking.created', data) })`.
   * The source service and this request's correlation id are filled in.
   */
  events: EventWriter;
  /** The live message a subscription field resolves, when the gateway sent one (`liveMessage(ctx, topic)`). */
  liveMessage?: LiveMessage;
  /** Messages for GraphQL subscriptions; publish them after your transaction committed. */
  live: LivePublisher;
}

/** What the resolvers of one subgraph receive: the base, its per-request store and its start-up services. */
export type SubgraphContext<TStore, TServices = unknown> = BaseContext & {
  store: TStore;
  /** What the service built once at start-up (`SubgraphDefinition.services`): typed clients of other subgraphs, a token signer. */
  services: TServices;
};

export interface SubgraphDefinition<TStore, TServices = unknown> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  /**
   * The resolver map, typed in each subgraph by its generated `Resolvers`; codegen's
   * federation types (`__resolveReference`) do not fit @apollo/subgraph's looser map, so
   * the one conversion happens here.
   */
  resolvers: object;
  /**
   * Built once at start-up from the config, and handed to every request as `ctx.services`:
   * what resolvers need beyond the request (clients of other subgraphs, a token signer).
   */
  services?(config: ServiceConfig, log: Logger, metrics: Metrics): TServices;
  migrationsDir: URL;
  /** The per-request data source: SQL behind DataLoaders, fresh for every request. */
  createStore(db: Database, ctx: BaseContext): TStore;
  /**
   * The domain events this service handles. Each runs in a transaction with the event
   * recorded in `event_inbox` (a second delivery is skipped), at least once, with retries
   * and a dead-letter stream; the consumer group is the service name.
   */
  consumes?: EventHandlers;
  /** Seeds a demo gym, generated for the clock's today, into a new database (not in production). */
  seedDemo?(db: Database, log: Logger, clock: Clock): Promise<void>;
  /** Work the service does on its own (a scheduler): started once the database is open, closed before it. */
  background?(rt: BackgroundRuntime): { close(): Promise<void> };
}

/** What a subgraph's background work receives. */
export interface BackgroundRuntime {
  db: Database;
  log: Logger;
  config: ServiceConfig;
  live: LivePublisher;
  clock: Clock;
  /** This service's `/metrics` registry, for what the background work counts. */
  metrics: Metrics;
}

export interface RunningSubgraph extends Listening {
  name: SubgraphName;
  db: Database;
  log: Logger;
  /** The outbox relay and the consumer: `await running.events.idle()` waits until everything this service published or consumes is through. */
  events: EventRuntime;
  /** The live bus this service publishes subscription messages on. */
  live: LiveBus;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const contextError = (message: string, status: number) => new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status } } });

/**
 * Who is calling: subgraphs answer only FitSync services (a signed service
 * credential), never the internet; the end user's token is verified again here.
 */
export async function authenticateRequest(headers: IncomingHttpHeaders, verifier: TokenVerifier) {
  const serviceToken = headerValue(headers, SERVICE_TOKEN_HEADER);
  if (!serviceToken) throw contextError('Subgraphs answer only the FitSync gateway and services: missing service credential', 401);
  const caller = await verifier.verifyService(serviceToken).catch(() => {
    throw contextError('Invalid service credential', 401);
  });
  const authorization = headerValue(headers, 'authorization');
  let viewer: Viewer | null = null;
  // A refused Authorization header or user token is a 401 like a refused credential (Apollo answers 500 for a context error without a status).
  try {
    const token = bearerToken(authorization);
    if (token) {
      const { id, role } = await verifier.verifyUser(token);
      viewer = { id, role };
    }
  } catch (err) {
    if (err instanceof GraphQLError && err.extensions.code === ErrorCode.UNAUTHENTICATED) throw contextError(err.message, 401);
    throw err;
  }
  const correlationId = headerValue(headers, CORRELATION_HEADER) || randomUUID();
  recordCorrelationId(correlationId);
  return { caller, viewer, correlationId, authorization };
}

export interface StartOptions {
  /** Open this database instead of the one the config names (tests). */
  db?: Database;
  /** Live bus to publish on; default `createLiveBus(config)` (closed with the service when it made it). */
  live?: LiveBus;
  /** Event transport; default `createTransport(config)` (Redis with REDIS_URL, else the npm start hub or this process's bus). */
  transport?: EventTransport;
  /** Consumer and relay tuning (tests shorten retry and takeover delays). */
  events?: Pick<EventRuntimeOptions, 'consumer' | 'relay'>;
  /** What time it is for this service ("now", the gym's today, token lifetimes); default the system clock, pinned in tests. */
  clock?: Clock;
}

/** Opens the service's database (migrating, seeding a new one), builds the schema and listens. */
export async function startSubgraph<TStore, TServices>(
  def: SubgraphDefinition<TStore, TServices>,
  config: ServiceConfig,
  opts: StartOptions = {},
): Promise<RunningSubgraph> {
  const log = createLogger(def.name, config.logLevel);
  const metrics = createMetrics(def.name);
  const clock = opts.clock ?? systemClock;
  const db =
    opts.db ??
    (await openDatabase({
      service: def.name,
      migrationsDir: def.migrationsDir,
      log,
      databaseUrl: config.databaseUrl,
      schema: config.dbSchema,
      dataDir: config.dataDir.startsWith('memory://') ? config.dataDir : join(config.dataDir, def.name),
      poolSize: config.dbPoolSize,
      onStatement: () => metrics.sqlStatements.inc(),
    }));
  if (db.fresh && config.seedDemo && def.seedDemo) {
    await def.seedDemo(db, log, clock);
    log.info({ location: db.location }, 'demo gym seeded');
  }
  const verifier = createTokenVerifier(userSecrets(config), serviceSecrets(config), clock);
  const live = opts.live ?? createLiveBus(config);
  const transport = opts.transport ?? createTransport(config, { onError: (err) => log.warn({ err }, 'redis connection problem (events)') });
  const events = await startEventRuntime({
    service: def.name,
    db: db.background,
    transport,
    handlers: def.consumes,
    log,
    live,
    registry: metrics.registry,
    // Envelope timestamps are business time: the service's clock.
    now: clock,
    ...opts.events,
  });

  const app = createHttpApp({
    metrics,
    production: config.production,
    metricsToken: config.metricsToken,
    ready: async () => {
      await db.query('SELECT 1');
      return { ok: true, detail: { database: db.kind } };
    },
  });
  // Before /graphql is mounted: every GraphQL request a subgraph answers is timed and counted on its /metrics.
  app.use(recordHttpDuration(metrics));
  const httpServer = createServer(app);
  const requestDb = checkedTransactions(db);
  const services = def.services?.(config, log, metrics) as TServices;
  const apollo = new ApolloServer<SubgraphContext<TStore, TServices>>({
    // What a mutation's transaction returns is checked against the mutation's type before it commits.
    schema: scopeMutations(
      buildSubgraphSchema({
        typeDefs: def.typeDefs,
        resolvers: { ...withExternalFields(def.typeDefs, def.resolvers as GraphQLResolverMap<unknown>), _Any: representationScalar(def.typeDefs) },
      }),
      def.resolvers,
    ),
    logger: log,
    // runService owns SIGINT/SIGTERM: Apollo's own handlers would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: errorFormatter(),
    validationRules: [knownOperationTypes],
    // No NUL or unpaired surrogate in any text input, whoever calls: literals and variables.
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      unexpectedErrorLogging(log),
      safeTextInputs(),
      inputFieldPaths(),
    ],
  });
  await apollo.start();
  const contextFor = (identity: Awaited<ReturnType<typeof authenticateRequest>>, liveMessage: LiveMessage | undefined) => {
    const base: BaseContext = {
      ...identity,
      clock,
      log: log.child({ correlationId: identity.correlationId }),
      events: events.writer(identity.correlationId),
      live,
      liveMessage,
    };
    return { ...base, store: def.createStore(requestDb, base), services };
  };
  app.use(
    '/graphql',
    jsonBody('5mb'),
    liveBatches(apollo, verifier, log, contextFor),
    expressMiddleware(apollo, {
      context: async ({ req }) => contextFor(await authenticateRequest(req.headers, verifier), liveMessageFromBody(req.body)),
    }),
  );
  app.use(...requestErrorHandlers(log));
  const listening = await listen(httpServer, config.port, config.host, '/graphql', log);
  const background = def.background?.({ db, log, config, live, clock, metrics });
  return {
    ...listening,
    name: def.name,
    db,
    log,
    events,
    live,
    async close() {
      await apollo.stop();
      await listening.close();
      await background?.close();
      await events.close();
      if (!opts.transport) await transport.close();
      if (!opts.live) await live.close();
      if (!opts.db) await db.close();
    },
  };
}

export { createServiceCredentials, type ServiceCredentials };

type LiveBatchResult = { data?: unknown; errors?: readonly unknown[] };

/**
 * Live batches (see LIVE_BATCH_HEADER): the gateway's primary fetches of several live
 * messages in one request. The request's service credential is checked once; then each entry
 * is its own operation: its caller's token verified as an `Authorization` header would be, a
 * context of its own with its live message, and Apollo's whole pipeline (validation, plugins,
 * formatError) through `executeOperation`. Only subscription operations that carry a live
 * message are taken: a batch is not a way to send queries or mutations.
 */
function liveBatches<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  verifier: TokenVerifier,
  log: Logger,
  contextFor: (identity: Awaited<ReturnType<typeof authenticateRequest>>, liveMessage: LiveMessage | undefined) => TContext,
): import('express').RequestHandler {
  const refused = (message: string, code: string): LiveBatchResult => ({ errors: [{ message, extensions: { code } }] });
  return (req, res, next) => {
    if (req.method !== 'POST' || !req.headers[LIVE_BATCH_HEADER]) return next();
    const send = (status: number, body: unknown) => res.status(status).type('application/json').send(JSON.stringify(body));
    const entries = req.body as unknown;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > LIVE_BATCH_MAX) {
      return send(400, { errors: [{ message: `A live batch is a JSON array of 1 to ${LIVE_BATCH_MAX} entries`, extensions: { code: 'BAD_REQUEST' } }] });
    }
    const serviceToken = headerValue(req.headers, SERVICE_TOKEN_HEADER);
    void (async () => {
      // The credential first, for the whole batch: without it nothing is resolved.
      try {
        await authenticateRequest({ [SERVICE_TOKEN_HEADER]: serviceToken }, verifier);
      } catch (err) {
        return send(401, {
          errors: [{ message: err instanceof GraphQLError ? err.message : 'Invalid service credential', extensions: { code: ErrorCode.UNAUTHENTICATED } }],
        });
      }
      const results = await Promise.all(
        entries.map(async (raw: unknown): Promise<LiveBatchResult> => {
          const entry = raw as Partial<LiveBatchEntry> | null;
          const liveMessage = liveMessageFromBody(entry);
          if (typeof entry?.query !== 'string' || !liveMessage || !/^\s*subscription\b/.test(entry.query)) {
            return refused('A live batch entry is a subscription operation with its live message', 'BAD_REQUEST');
          }
          let identity: Awaited<ReturnType<typeof authenticateRequest>>;
          try {
            identity = await authenticateRequest(
              {
                [SERVICE_TOKEN_HEADER]: serviceToken,
                ...(typeof entry.authorization === 'string' ? { authorization: entry.authorization } : {}),
                ...(typeof entry.correlationId === 'string' ? { [CORRELATION_HEADER]: entry.correlationId } : {}),
              },
              verifier,
            );
          } catch (err) {
            return refused(err instanceof GraphQLError ? err.message : 'Invalid token', ErrorCode.UNAUTHENTICATED);
          }
          const response = await apollo.executeOperation(
            {
              query: entry.query,
              operationName: entry.operationName ?? undefined,
              variables: entry.variables ?? undefined,
              extensions: { [LIVE_MESSAGE_EXTENSION]: liveMessage },
            },
            { contextValue: contextFor(identity, liveMessage) },
          );
          if (response.body.kind !== 'single') return refused('Incremental delivery is not served in a live batch', 'BAD_REQUEST');
          const { data, errors } = response.body.singleResult;
          return { ...(data !== undefined ? { data } : {}), ...(errors ? { errors } : {}) };
        }),
      );
      send(200, results);
    })().catch((err: unknown) => {
      log.error({ err }, 'live batch failed');
      if (!res.headersSent) send(500, { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] });
    });
  };
}

/** The subgraph's resolvers with one for each `@external` field that has none (see externalFieldResolvers). */
function withExternalFields(typeDefs: DocumentNode, resolvers: GraphQLResolverMap<unknown>): GraphQLResolverMap<unknown> {
  const merged: Record<string, unknown> = { ...resolvers };
  for (const [type, fields] of Object.entries(externalFieldResolvers(typeDefs, resolvers)))
    merged[type] = { ...(resolvers[type] as object | undefined), ...fields };
  return merged as GraphQLResolverMap<unknown>;
}
