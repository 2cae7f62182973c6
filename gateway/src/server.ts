import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import type { ParseOptions, ValidationRule } from 'graphql';
import { createLiveBus } from '@fitsync/live';
import {
  createCounter,
  createGauge,
  serviceCallMetrics,
  createHistogram,
  BREAKER_VALUES,
  createShellRouter,
  createLogger,
  createMetrics,
  createServer,
  createServiceCredentials,
  ErrorCode,
  errorFormatter,
  unexpectedErrorLogging,
  safeTextInputs,
  inputFieldPaths,
  jsonBody,
  listen,
  recordHttpDuration,
  requestErrorHandlers,
  securityHeaders,
  serviceSecrets,
  systemClock,
  type Clock,
  type Listening,
  type Logger,
  type Metrics,
  type RateLimitConfig,
  type ServiceConfig,
  type SubgraphName,
  subgraphTimeoutMs,
  subscriptionTransport,
  healthUrlVariable,
  SERVICE_TOKEN_HEADER,
  type ServiceCredentials,
} from '@fitsync/service-kit';
import { authRateLimits } from './auth-limits.js';
import { unsubscribeLink } from './unsubscribe.js';
import { createContext, correlationId, type GatewayContext } from './context.js';
import { graphqlPostLane } from './graphql-post.js';
import { SubgraphDataSource } from './datasource.js';
import { createUserAuthenticator, type UserAuthenticator } from './identity.js';
import { createKeepAliveFetcher, type SubgraphClient } from './fetcher.js';
import { GRAPHIQL_ASSETS_PATH, bareGetAnswer, graphiqlRoutes } from './graphiql.js';
import { idempotentMutations, memoryIdempotencyStore, redisIdempotencyStore } from './idempotency.js';
import { DEFAULT_LIMITS, finiteNumbersRule, listNestingRule, operationLimitsRule, type OperationLimits } from './limits.js';
import { CostCalculator } from './cost.js';
import { createRateLimits, type RateLimits } from './rate-limits.js';
import { errorCap, operationCost, operationResolution, withoutFieldSuggestions, type CostLimit } from './request-rules.js';
import { PlannedGateway, plannerSupergraphHook } from './planner-fixes/index.js';
import { SupergraphError, subgraphUrl } from './supergraph.js';
import { openSupergraphSource, type SupergraphSource, type SupergraphStatus } from './supergraph-source.js';

export type { SchemaChange, SchemaChangeListener, SupergraphStatus } from './supergraph-source.js';
import { createLiveServer, type LiveOptions, type LiveServer } from './live/server.js';
import { trustedDocumentsHttp } from './trusted/http.js';
import type { DocumentGate } from './trusted/registry.js';
import { openTrustedDocuments, type TrustedDocuments } from './trusted/source.js';

export type { TrustedDocumentsStatus } from './trusted/source.js';
export { documentId } from './trusted/registry.js';

export type { LiveOptions } from './live/server.js';
export { DEFAULT_MAX_CONCURRENT_EVENTS } from './live/server.js';
export { DEFAULT_MAX_UPSTREAM_HANDSHAKES } from './live/upstream.js';
export { CostCalculator, type CostOptions } from './cost.js';

/** Largest request body on `/graphql`, over POST and SSE alike (the compose proxy allows more: tests/docker-compose.test.ts). */
export const BODY_LIMIT = '1mb';
/** BODY_LIMIT in bytes, as body-parser reads it. */
const BODY_LIMIT_BYTES = 1024 * 1024;

export interface GatewayOptions {
  /**
   * Business time: user tokens are checked, and subscriptions end at their token's
   * expiry, by this clock. Default the system clock; tests pin one and advance it.
   */
  clock?: Clock;
  /** Serve this supergraph instead of reading SUPERGRAPH_PATH (tests). */
  supergraphSdl?: string;
  /** Send a subgraph's requests here instead of its routing URL (before `<NAME>_URL`, see ServiceConfig.subgraphUrlOverrides). */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
  /** Limits on incoming operations, over the config's (MAX_DEPTH, MAX_ALIASES, MAX_DIRECTIVES, MAX_TOKENS). */
  limits?: Partial<OperationLimits>;
  /** Deadline for one subgraph request, after which its fields fail with SERVICE_UNAVAILABLE, over the config's (SUBGRAPH_TIMEOUT_MS, `<NAME>_TIMEOUT_MS`). */
  subgraphTimeoutMs?: number;
  /** Share the answer of identical subgraph queries in flight at once, over the config's (SUBGRAPH_DEDUPLICATION). */
  deduplicateSubgraphRequests?: boolean;
  /** Rewrite query plans so entity fetches to one subgraph at different stages leave together, over the config's (GATEWAY_DEFER_ENTITY_FETCHES). */
  deferEntityFetches?: boolean;
  /** The HTTP client of subgraph requests and `/ready` probes, over the config's (GATEWAY_SUBGRAPH_CLIENT). */
  subgraphClient?: SubgraphClient;
  /** Deadline for one subgraph probe in `/ready`. Default 2 s. */
  readyTimeoutMs?: number;
  /**
   * Subscriptions (graphql-ws and SSE on `/graphql`). Default: on, over Redis
   * (`<REDIS_URL>`, channels `fitsync:live:*`) when REDIS_URL is set, else an in-process
   * bus the gateway owns. Give a bus to share one (the caller then closes it); `false`
   * turns subscriptions off.
   */
  live?: Partial<LiveOptions> | false;
  /** With JWT_JWKS_URL: deadline for fetching the identity provider's keys. Default 5 s. */
  jwksTimeoutMs?: number;
  /** Rate limits and TRUST_PROXY, over the config's (the RATE_LIMIT_* variables). */
  rateLimits?: Partial<RateLimitConfig>;
}

/** What a built gateway offers, listening or not. */
interface GatewayParts {
  log: Logger;
  metrics: Metrics;
  /** Where each subgraph of the served supergraph is reached. */
  subgraphs: ReadonlyMap<string, string>;
  /** Where the supergraph came from. */
  supergraphSource: string;
  /**
   * The served supergraph: `status()` (hash, source, reloads, last refusal), `apiSchema()`,
   * `onSchemaChange(listener)` (runs after every hot reload with the new API schema) and `reload()`.
   */
  supergraph: Pick<SupergraphSource, 'status' | 'apiSchema' | 'onSchemaChange' | 'reload'>;
  /**
   * The registry of client documents (TRUSTED_DOCUMENTS, TRUSTED_DOCUMENTS_DIR): `status()`,
   * `registry()` and `reload()` (the watchers call it; tests may too).
   */
  trustedDocuments: Pick<TrustedDocuments, 'status' | 'registry' | 'reload'>;
  /** Live subscriptions, unless turned off. */
  live?: LiveServer;
  /** Serves `/graphql` (HTTP, SSE and WebSocket upgrades), `/health`, `/ready` and `/metrics`. */
  server: Server;
  /**
   * A subgraph moved (restarted on a new address): later fetches, probes and subscriptions go
   * to `url`. What `subgraphUrls` and `<NAME>_URL` say still wins at the next supergraph reload.
   */
  moveSubgraph(name: string, url: string): void;
  /** Ends subscriptions, stops serving, and closes the socket (when listening) and the connections to subgraphs. */
  close(): Promise<void>;
}

/** A gateway built and ready to serve, not yet bound to a port (`buildGateway`). */
export interface Gateway extends GatewayParts {
  /**
   * Binds `port` on `host` (default the config's; port 0 picks a free one, as tests do)
   * and resolves once listening. The gateway keeps the socket until `close()`.
   */
  listen(port?: number, host?: string): Promise<RunningGateway>;
}

/** A gateway listening on its port (`createGateway`, or `listen()` of a built one). */
export interface RunningGateway extends GatewayParts, Listening {
  close(): Promise<void>;
}

/**
 * Builds the gateway without binding a port: loads the supergraph, connects to the
 * subgraphs it names, starts Apollo (planning and executing client operations) and the
 * live subscriptions, and mounts `/graphql`, `/health`, `/ready` and `/metrics` on an
 * HTTP server that `listen()` binds.
 */
export async function buildGateway(config: ServiceConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const log = createLogger('gateway', config.logLevel);
  const metrics = createMetrics('gateway');
  const clock = opts.clock ?? systemClock;
  const limits: OperationLimits = { ...DEFAULT_LIMITS, ...config.operationLimits, ...opts.limits };
  const validationRules = [operationLimitsRule(limits), listNestingRule(), finiteNumbersRule];
  const parseOptions: ParseOptions = { maxTokens: limits.maxTokens };
  const rateLimitConfig: RateLimitConfig = { ...config.rateLimits, ...opts.rateLimits };
  const trusted = await openTrustedDocuments(config, log, metrics, parseOptions);
  const closeTrustedAnd = async (err: unknown): Promise<never> => {
    await trusted.close();
    throw err;
  };
  const supergraph = await openSupergraphSource(config, log, metrics, opts.supergraphSdl).catch(closeTrustedAnd);
  const upstream = connectSubgraphs(config, opts, log, metrics, supergraph);
  const ready = async () => {
    const { ok, detail } = await upstream.ready();
    return { ok, detail: { ...(detail as object), trustedDocuments: trusted.status() } };
  };
  const rateLimits = createRateLimits(rateLimitConfig, { redisUrl: config.redisUrl, prefix: config.eventsPrefix, metrics, log });
  const { shell, server, app, before, useLane } = createHttpShell(config, rateLimitConfig.trustProxy, metrics, ready, log);
  const costs = followCosts(config, supergraph, metrics);
  const idempotency = config.redisUrl ? redisIdempotencyStore(config.redisUrl, config.eventsPrefix, log) : memoryIdempotencyStore();
  const apollo = createApollo(config, upstream.gateway, server, log, validationRules, parseOptions, rateLimits, costs, [
    // A repeat waits for the first at most as long as an operation may take, and a bit.
    idempotentMutations({ store: idempotency, ttlMs: config.idempotencyTtlMs, waitMs: config.operationTimeoutMs + 5_000, log }),
  ]);
  await startApollo(apollo, supergraph, upstream).catch(async (err: unknown) => {
    await rateLimits.close();
    await idempotency.close();
    costs.close();
    await closeTrustedAnd(err);
  });
  log.info({ supergraph: supergraph.source, hash: supergraph.status().hash, subgraphs: Object.fromEntries(upstream.subgraphs) }, 'supergraph loaded');

  const users = createUserAuthenticator(config, clock, log, { jwksTimeoutMs: opts.jwksTimeoutMs });
  const live =
    opts.live === false
      ? undefined
      : startLive(config, opts.live, {
          httpServer: server,
          metrics,
          subgraphUrls: opts.subgraphUrls ?? {},
          supergraph,
          upstream,
          validationRules,
          parseOptions,
          costs,
          users,
          clock,
          log,
          rateLimits,
          documents: trusted.gate,
        });
  if (live) {
    const server = live.server;
    createGauge(metrics, {
      name: 'fitsync_live_subscribers',
      help: 'Subscriptions open on this gateway (graphql-ws and SSE), by Subscription field',
      labelNames: ['field'] as const,
      collect() {
        this.reset();
        for (const [field, n] of server.subscribersByField()) this.set({ field }, n);
      },
    });
  }
  // GraphiQL (GRAPHIQL_PATH): on /graphql for a browser's GET, or on a path of its own.
  const graphiql = config.graphiqlPath ? graphiqlRoutes(config.graphiqlPath, log) : undefined;
  if (graphiql) {
    shell.use(GRAPHIQL_ASSETS_PATH, graphiql.assets);
    if (config.graphiqlPath !== '/graphql') shell.get(config.graphiqlPath!, graphiql.page);
  }
  // A GET with no parameters is answered in front of Apollo (graphiql.ts). The body limit and its GraphQL JSON errors hold for SSE as for POST: the body is read (and bounded) before either handler,
  // and the trusted-documents rule decides which document runs before either sees it.
  const context = createContext(users, log, config.operationTimeoutMs, rateLimits);
  const graphqlHandler = expressMiddleware(apollo, { context });
  // The common POST in front of Express, through the same steps (graphql-post.ts).
  useLane(
    graphqlPostLane({
      apollo,
      context,
      gate: trusted.gate,
      limit: BODY_LIMIT_BYTES,
      before,
      trustProxy: app.get('trust proxy fn') as Parameters<typeof graphqlPostLane>[0]['trustProxy'],
      metrics,
      log,
    }),
  );
  shell.use(
    '/graphql',
    ...(graphiql && config.graphiqlPath === '/graphql' ? [graphiql.page] : []),
    bareGetAnswer(config.graphiqlPath),
    jsonBody(BODY_LIMIT),
    trustedDocumentsHttp(trusted.gate),
    ...(live ? [live.server.sse] : []),
    graphqlHandler,
  );
  // The unsubscribe link of emails: the registered Unsubscribe mutation, through the same handlers.
  shell.use('/unsubscribe', unsubscribeLink(), trustedDocumentsHttp(trusted.gate), graphqlHandler);

  let listening: Listening | undefined;
  const close = async () => {
    await live?.close();
    costs.close();
    await supergraph.close();
    await trusted.close();
    await apollo.stop();
    await listening?.close();
    upstream.close();
    await idempotency.close();
    await rateLimits.close();
  };
  const parts: GatewayParts = {
    log,
    metrics,
    subgraphs: upstream.subgraphs,
    supergraphSource: supergraph.source,
    supergraph,
    trustedDocuments: trusted,
    live: live?.server,
    server,
    moveSubgraph(name, url) {
      upstream.subgraphs.set(name, url);
      const source = upstream.dataSources.get(name);
      if (source) source.url = url;
    },
    close,
  };
  return {
    ...parts,
    async listen(port = config.port, host = config.host) {
      if (listening) throw new Error(`the gateway is already listening at ${listening.url}`);
      listening = await listen(server, port, host, '/graphql', log);
      return { ...parts, ...listening, close };
    },
  };
}

/**
 * Builds the gateway and listens on `config.port` (0 in tests): `buildGateway`, then
 * `listen()`. A port that cannot be bound closes what was built.
 */
export async function createGateway(config: ServiceConfig, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await buildGateway(config, opts);
  try {
    return await gateway.listen();
  } catch (err) {
    await gateway.close();
    throw err;
  }
}

/** The subgraphs' side of the gateway: Apollo's gateway, its data sources and the HTTP clients they share. */
interface Upstream {
  /** Apollo's gateway, with the planner fixes of planner-fixes/ around it. */
  gateway: PlannedGateway;
  /** Where each subgraph is reached, filled in as Apollo builds its data sources. */
  subgraphs: Map<string, string>;
  dataSources: Map<string, SubgraphDataSource>;
  /** The gateway's signed service credential, sent with every subgraph request and upstream subscription. */
  credentials: ServiceCredentials;
  /** `/ready`: the supergraph is loaded and every subgraph answers `/health`. */
  ready(): Promise<{ ok: boolean; detail: unknown }>;
  loaded: boolean;
  close(): void;
}

function connectSubgraphs(config: ServiceConfig, opts: GatewayOptions, log: Logger, metrics: Metrics, supergraph: SupergraphSource): Upstream {
  const client = opts.subgraphClient ?? config.subgraphClient;
  const fetcher = createKeepAliveFetcher({ timeoutMs: opts.subgraphTimeoutMs ?? config.subgraphTimeouts.defaultMs, client });
  const probe = createKeepAliveFetcher({ timeoutMs: opts.readyTimeoutMs ?? 2_000, maxSockets: 4, client });
  const credentials = createServiceCredentials('gateway', serviceSecrets(config));
  const subgraphFetches = createHistogram(metrics, {
    name: 'fitsync_gateway_subgraph_request_duration_seconds',
    help: 'Requests from the gateway to subgraphs, by subgraph and outcome (ok, errors, unavailable)',
    labelNames: ['subgraph', 'outcome'] as const,
  });
  const breakerState = createGauge(metrics, {
    name: 'fitsync_gateway_breaker_state',
    help: 'The circuit breaker in front of each subgraph: 0 closed, 1 half-open (probing), 2 open (failing fast)',
    labelNames: ['subgraph'] as const,
  });
  // The same on the platform-wide names, with the gateway as the caller (service clients record theirs).
  const calls = serviceCallMetrics(metrics);
  const deduplicated = createCounter(metrics, {
    name: 'fitsync_gateway_subgraph_requests_deduplicated_total',
    help: 'Subgraph queries not sent because an identical one was in flight (its answer was shared)',
    labelNames: ['subgraph'] as const,
  });
  const subgraphs = new Map<string, string>();
  const dataSources = new Map<string, SubgraphDataSource>();
  const planned = new PlannedGateway(log, { deferEntityFetches: opts.deferEntityFetches ?? config.deferEntityFetches });
  const upstream: Upstream = {
    subgraphs,
    dataSources,
    credentials,
    loaded: false,
    ready: () => readiness(upstream, probe.fetch, credentials, config.subgraphHealthUrls, supergraph.status()),
    close() {
      fetcher.close();
      probe.close();
      for (const source of dataSources.values()) source.shutdown();
    },
    gateway: planned.wrap(
      withoutApolloTelemetry(
        () =>
          new ApolloGateway({
            // The planner gets the supergraph with its workarounds applied, at load and at every reload.
            supergraphSdl: plannerSupergraphHook(supergraph.hook),
            experimental_didResolveQueryPlan: planned.didResolveQueryPlan,
            logger: log,
            buildService: ({ name, url }) => {
              const target = subgraphUrl(name, url, opts.subgraphUrls ?? {}, config.subgraphUrlOverrides);
              subgraphs.set(name, target);
              const source = new SubgraphDataSource({
                name,
                url: target,
                fetcher: fetcher.fetch,
                timeoutMs: opts.subgraphTimeoutMs ?? subgraphTimeoutMs(config, name),
                breaker: config.breaker,
                credentials,
                log,
                observe: (subgraph, outcome, seconds) => {
                  subgraphFetches.observe({ subgraph, outcome }, seconds);
                  calls.duration.observe({ caller: 'gateway', target: subgraph, outcome }, seconds);
                },
                onBreakerState: (subgraph, state) => {
                  breakerState.set({ subgraph }, BREAKER_VALUES[state]);
                  calls.breaker.set({ caller: 'gateway', target: subgraph }, BREAKER_VALUES[state]);
                },
                deduplicate: opts.deduplicateSubgraphRequests ?? config.deduplicateSubgraphRequests,
                onDeduplicated: (subgraph) => deduplicated.inc({ subgraph }),
              });
              // A new supergraph builds new data sources: the old one's breaker timers stop.
              dataSources.get(name)?.shutdown();
              breakerState.set({ subgraph: name }, 0);
              calls.breaker.set({ caller: 'gateway', target: name }, 0);
              dataSources.set(name, source);
              return source;
            },
          }),
      ),
    ),
  };
  return upstream;
}

/**
 * @apollo/gateway 2.14 has no option for its usage telemetry: its constructor reads
 * process.env.APOLLO_TELEMETRY_DISABLED itself and, unless that is 'true' or '1', starts
 * an exporter to Apollo and probes cloud metadata endpoints right there
 * (node_modules/@apollo/gateway/dist/index.js). A private platform reports nothing, so
 * the constructor runs with the variable set, and the environment is put back as it was
 * when it returns: the constructor is synchronous, nothing else can see the difference.
 */
function withoutApolloTelemetry<T>(construct: () => T): T {
  const VARIABLE = 'APOLLO_TELEMETRY_DISABLED';
  const before = process.env[VARIABLE];
  process.env[VARIABLE] = 'true';
  try {
    return construct();
  } finally {
    if (before === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = before;
  }
}

/** Express with the shared shell (`/health`, `/ready`, `/metrics`), request timing and correlation ids; `/graphql` is mounted on `shell` later. */
function createHttpShell(config: ServiceConfig, trustProxy: number, metrics: Metrics, ready: Upstream['ready'], log: Logger) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // req.ip: the socket's address, or with TRUST_PROXY=n the address n proxies back in X-Forwarded-For.
  app.set('trust proxy', trustProxy);
  // What every answer gets before the routes; each uses nothing of Express and, for a POST, calls
  // `next` before it returns, so the /graphql POST lane runs them too. CORS only for the allowed
  // browser origins (CORS_ORIGINS), none by default; its preflight (an OPTIONS) is Express's.
  const before: RequestHandler[] = [correlationId(), securityHeaders(config.production)];
  if (config.corsOrigins.length > 0) {
    before.push(
      cors({
        origin: config.corsOrigins,
        // traceparent and tracestate: a browser frontend's trace context (continued with OTEL_TRUST_INCOMING_TRACEPARENT).
        allowedHeaders: ['content-type', 'authorization', 'x-correlation-id', 'idempotency-key', 'apollo-require-preflight', 'traceparent', 'tracestate'],
        exposedHeaders: ['x-correlation-id', 'retry-after'],
        maxAge: 600,
      }),
    );
  }
  app.use(recordHttpDuration(metrics), ...before);
  // A router, not a second Express app: the security headers above are set once per request.
  const shell = createShellRouter({ metrics, ready, production: config.production, metricsToken: config.metricsToken });
  app.use(shell);
  // Routes mounted on `shell` later still come first: these answer what nothing else did.
  app.use(...requestErrorHandlers(log));
  let lane: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const server = createServer((req, res) => {
    if (!lane?.(req, res)) app(req, res);
  });
  return { shell, server, app, before, useLane: (l: typeof lane) => void (lane = l) };
}

function createApollo(
  config: ServiceConfig,
  gateway: PlannedGateway,
  httpServer: Server,
  log: Logger,
  validationRules: ValidationRule[],
  parseOptions: ParseOptions,
  rateLimits: RateLimits,
  costs: CostLimit,
  more: ApolloServerPlugin<GatewayContext>[] = [],
) {
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    unexpectedErrorLogging(log),
    operationResolution(),
    // Before Apollo's gateway plans anything or asks a subgraph.
    operationCost(costs),
    // No NUL or unpaired surrogate in a text input (subscriptions: the owning subgraph checks).
    safeTextInputs(),
    // Refusals name their field by argument path, inline or in a variable.
    inputFieldPaths(),
    // Before errorCap: it reads each login's own error before any is cut.
    authRateLimits(rateLimits),
    errorCap(config.maxErrors),
    // Browsers get GraphiQL from the gateway's own route (graphiql.ts), never a page loading code from elsewhere.
    ApolloServerPluginLandingPageDisabled(),
    // Last: what they store as a mutation's answer is what the others made of it.
    ...more,
  ];
  return new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    // runService owns SIGINT/SIGTERM: Apollo's own handlers would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatGatewayError(errorFormatter(), { blockFieldSuggestions: config.production }),
    csrfPrevention: true,
    // Document ids (APQ's included) are resolved in front of Apollo, by the trusted-documents rule
    // (trusted/registry.ts): Apollo's own APQ cache would register any document a client hashes.
    persistedQueries: false,
    introspection: !config.production,
    validationRules,
    parseOptions,
    plugins,
  });
}

/**
 * The cost rule of HTTP operations: MAX_OPERATION_COST, and the directives of the supergraph
 * served now (rebuilt at every hot reload); the cost is reported outside production.
 */
function followCosts(config: ServiceConfig, supergraph: SupergraphSource, metrics: Metrics): CostLimit & { close(): void } {
  // Built at the first operation: a supergraph Apollo cannot serve fails the start with its own error first.
  let calculator: CostCalculator | undefined;
  const unfollow = supergraph.onSchemaChange((change) => {
    calculator = CostCalculator.fromSupergraph(change.supergraphSdl);
  });
  const costs = createHistogram(metrics, {
    name: 'fitsync_gateway_operation_cost',
    help: 'Static cost (@cost / @listSize) of client operations, by outcome (served, refused over MAX_OPERATION_COST)',
    labelNames: ['outcome'] as const,
    buckets: [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 100_000, 1_000_000],
  });
  return {
    calculator: () => (calculator ??= CostCalculator.fromSupergraph(supergraph.sdl())),
    max: config.maxOperationCost,
    report: !config.production,
    observe: (estimated, refused) => costs.observe({ outcome: refused ? 'refused' : 'served' }, estimated),
    close: unfollow,
  };
}

/** Starts Apollo on the supergraph; a supergraph it cannot serve closes what was opened and fails with a SupergraphError. */
async function startApollo(apollo: ApolloServer<GatewayContext>, supergraph: SupergraphSource, upstream: Upstream) {
  try {
    await apollo.start();
  } catch (err) {
    await supergraph.close();
    upstream.close();
    if (err instanceof SupergraphError) throw err;
    throw new SupergraphError(`cannot serve the supergraph (${supergraph.source}): ${err instanceof Error ? err.message : String(err)}`);
  }
  upstream.loaded = true;
}

interface LiveDeps {
  httpServer: Server;
  metrics: Metrics;
  /** GatewayOptions.subgraphUrls. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  supergraph: SupergraphSource;
  upstream: Upstream;
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  costs: CostLimit;
  users: UserAuthenticator;
  clock: Clock;
  log: Logger;
  rateLimits: RateLimits;
  documents: DocumentGate;
}

/**
 * Subscriptions on the gateway's HTTP server, on the bus given or one of its own (closed
 * with it). Hot reloads move running subscriptions to the new supergraph when still valid.
 */
function startLive(config: ServiceConfig, options: Partial<LiveOptions> | undefined, deps: LiveDeps) {
  const bus = options?.bus ?? createLiveBus(config);
  const upstreamSubscriptions = createGauge(deps.metrics, {
    name: 'fitsync_gateway_upstream_subscriptions',
    help: 'Subscriptions the gateway holds open to subgraphs that serve their own (identical client subscriptions share one), by subgraph',
    labelNames: ['subgraph'] as const,
  });
  const server = createLiveServer({
    httpServer: deps.httpServer,
    supergraphSdl: deps.supergraph.sdl(),
    services: () => Object.fromEntries(deps.upstream.dataSources),
    validationRules: deps.validationRules,
    parseOptions: deps.parseOptions,
    users: deps.users,
    // The budget and metric of HTTP; the executor prices by its own supergraph.
    cost: deps.costs,
    clock: deps.clock,
    log: deps.log,
    rateLimits: deps.rateLimits,
    documents: deps.documents,
    options: { ...options, bus },
    upstream: {
      // Where its HTTP requests go (`<NAME>_URL`, a restart's new address), else the routing URL the supergraph gives.
      url: (name, routingUrl) => {
        const known = deps.upstream.subgraphs.get(name);
        if (known) return known;
        try {
          return subgraphUrl(name, routingUrl, deps.subgraphUrls, config.subgraphUrlOverrides);
        } catch {
          return undefined;
        }
      },
      transport: (name) => subscriptionTransport(config, name),
      serviceToken: () => deps.upstream.credentials.token(),
      onCount: (subgraph, open) => upstreamSubscriptions.set({ subgraph }, open),
    },
  });
  const unfollow = deps.supergraph.onSchemaChange((change) => server.updateSupergraph(change.supergraphSdl));
  return {
    server,
    async close() {
      unfollow();
      await server.close();
      if (bus !== options?.bus) await bus.close();
    },
  };
}

/**
 * Apollo Server prefixes errors thrown by the context function with "Context
 * creation failed: "; for a refused token that is noise to the client.
 */
const REFUSALS = new Set<string>([ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.SERVICE_UNAVAILABLE]);

function formatGatewayError(format: ReturnType<typeof errorFormatter>, opts: { blockFieldSuggestions: boolean }): ReturnType<typeof errorFormatter> {
  const PREFIX = 'Context creation failed: ';
  return (formatted) => {
    let out = format(formatted);
    // GraphQL Armor's block-field-suggestions, for Apollo: "Did you mean ...?" tells a stranger the schema.
    if (opts.blockFieldSuggestions) out = { ...out, message: withoutFieldSuggestions(out.message) };
    return REFUSALS.has(String(out.extensions?.code)) && out.message.startsWith(PREFIX) ? { ...out, message: out.message.slice(PREFIX.length) } : out;
  };
}

type Fetch = ReturnType<typeof createKeepAliveFetcher>['fetch'];

/** Ready when the supergraph is loaded and every subgraph's `/health` answers; the detail names the supergraph served. */
/**
 * `/ready`: can this gateway serve? Yes once its supergraph is loaded, whatever the subgraphs
 * do: one subgraph down empties its fields (and its breaker keeps that cheap), and must not
 * take every replica out of the load balancer. The detail says how each subgraph is: `up`,
 * `breaker open`, `refuses the gateway's credential`, or `down: <why>`. The probe is a
 * `{ __typename }` query with the gateway's credential (any GraphQL server answers it), or
 * a GET of `<NAME>_HEALTH_URL` when one is configured.
 */
async function readiness(
  upstream: Pick<Upstream, 'subgraphs' | 'dataSources' | 'loaded'>,
  fetch: Fetch,
  credentials: ServiceCredentials,
  healthUrls: Readonly<Record<string, string>>,
  supergraph: SupergraphStatus,
) {
  if (!upstream.loaded) return { ok: false, detail: { supergraph: 'not loaded' } };
  const checks = await Promise.all(
    [...upstream.subgraphs].map(async ([name, url]) => {
      if (upstream.dataSources.get(name)?.breakerState === 'open') return [name, 'breaker open'] as const;
      try {
        const health = healthUrls[healthUrlVariable(name)];
        const res = health
          ? await fetch(health, { method: 'GET' })
          : await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', [SERVICE_TOKEN_HEADER]: await credentials.token() },
              body: JSON.stringify({ query: '{ __typename }' }),
            });
        const body = await res.text();
        if (res.status === 401 || res.status === 403) return [name, "refuses the gateway's credential"] as const;
        if (!res.ok) return [name, `down: ${health ? 'its health check' : 'it'} answered ${res.status}`] as const;
        if (!health && !body.includes('"__typename"')) return [name, 'down: it answered without GraphQL data'] as const;
        return [name, 'up'] as const;
      } catch (err) {
        return [name, `down: ${err instanceof Error ? (err as { code?: string }).code || err.message : String(err)}`] as const;
      }
    }),
  );
  return { ok: true, detail: { supergraph, subgraphs: Object.fromEntries(checks) } };
}
