import type { Server } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import type { ParseOptions, ValidationRule } from 'graphql';
import { createLiveBus } from '@fitsync/live';
import {
  createHistogram,
  createHttpApp,
  createLogger,
  createMetrics,
  createServer,
  createServiceCredentials,
  createTokenVerifier,
  ErrorCode,
  errorFormatter,
  unexpectedErrorLogging,
  safeTextInputs,
  jsonBody,
  listen,
  recordHttpDuration,
  requestErrorHandlers,
  securityHeaders,
  systemClock,
  type Clock,
  type Listening,
  type Logger,
  type Metrics,
  type ServiceConfig,
  type SubgraphName,
  type TokenVerifier,
} from '@fitsync/service-kit';
import { createContext, correlationId, type GatewayContext } from './context.js';
import { SubgraphDataSource } from './datasource.js';
import { createKeepAliveFetcher } from './fetcher.js';
import { DEFAULT_LIMITS, finiteNumbersRule, listNestingRule, operationLimitsRule, type OperationLimits } from './limits.js';
import { errorCap, operationResolution, withoutFieldSuggestions } from './request-rules.js';
import { SupergraphError, healthUrl, subgraphUrl } from './supergraph.js';
import { openSupergraphSource, type SupergraphSource, type SupergraphStatus } from './supergraph-source.js';

export type { SchemaChange, SchemaChangeListener, SupergraphStatus } from './supergraph-source.js';
import { createLiveServer, type LiveOptions, type LiveServer } from './live/server.js';

export type { LiveOptions } from './live/server.js';

/** Largest request body on `/graphql`, over POST and SSE alike. */
const BODY_LIMIT = '1mb';

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
  /** Deadline for one subgraph request, after which its fields fail with SERVICE_UNAVAILABLE. Default 10 s. */
  subgraphTimeoutMs?: number;
  /** Deadline for one subgraph `/health` probe in `/ready`. Default 2 s. */
  readyTimeoutMs?: number;
  /**
   * Subscriptions (graphql-ws and SSE on `/graphql`). Default: on, over Redis
   * (`<REDIS_URL>`, channels `fitsync:live:*`) when REDIS_URL is set, else an in-process
   * bus the gateway owns. Give a bus to share one (the caller then closes it); `false`
   * turns subscriptions off.
   */
  live?: Partial<LiveOptions> | false;
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
  const supergraph = await openSupergraphSource(config, log, metrics, opts.supergraphSdl);
  const upstream = connectSubgraphs(config, opts, log, metrics, supergraph);
  const { shell, server } = createHttpShell(config, metrics, () => upstream.ready(), log);
  const apollo = createApollo(config, upstream.gateway, server, log, validationRules, parseOptions);
  await startApollo(apollo, supergraph, upstream);
  log.info({ supergraph: supergraph.source, hash: supergraph.status().hash, subgraphs: Object.fromEntries(upstream.subgraphs) }, 'supergraph loaded');

  const verifier = createTokenVerifier(config.jwtSecret, config.serviceSecret, clock);
  const live =
    opts.live === false
      ? undefined
      : startLive(config, opts.live, { httpServer: server, supergraph, upstream, validationRules, parseOptions, verifier, clock, log });
  // The body limit and its GraphQL JSON errors hold for SSE as for POST: the body is read (and bounded) before either handler.
  shell.use('/graphql', jsonBody(BODY_LIMIT), ...(live ? [live.server.sse] : []), expressMiddleware(apollo, { context: createContext(verifier, log) }));

  let listening: Listening | undefined;
  const close = async () => {
    await live?.close();
    await supergraph.close();
    await apollo.stop();
    await listening?.close();
    upstream.close();
  };
  const parts: GatewayParts = {
    log,
    metrics,
    subgraphs: upstream.subgraphs,
    supergraphSource: supergraph.source,
    supergraph,
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
  gateway: ApolloGateway;
  /** Where each subgraph is reached, filled in as Apollo builds its data sources. */
  subgraphs: Map<string, string>;
  dataSources: Map<string, SubgraphDataSource>;
  /** `/ready`: the supergraph is loaded and every subgraph answers `/health`. */
  ready(): Promise<{ ok: boolean; detail: unknown }>;
  loaded: boolean;
  close(): void;
}

function connectSubgraphs(config: ServiceConfig, opts: GatewayOptions, log: Logger, metrics: Metrics, supergraph: SupergraphSource): Upstream {
  const fetcher = createKeepAliveFetcher({ timeoutMs: opts.subgraphTimeoutMs ?? 10_000 });
  const probe = createKeepAliveFetcher({ timeoutMs: opts.readyTimeoutMs ?? 2_000, maxSockets: 4 });
  const credentials = createServiceCredentials('gateway', config.serviceSecret);
  const subgraphFetches = createHistogram(metrics, {
    name: 'fitsync_gateway_subgraph_request_duration_seconds',
    help: 'Requests from the gateway to subgraphs, by subgraph and outcome (ok, errors, unavailable)',
    labelNames: ['subgraph', 'outcome'] as const,
  });
  const subgraphs = new Map<string, string>();
  const dataSources = new Map<string, SubgraphDataSource>();
  const upstream: Upstream = {
    subgraphs,
    dataSources,
    loaded: false,
    ready: () => readiness(subgraphs, probe.fetch, upstream.loaded, supergraph.status()),
    close() {
      fetcher.close();
      probe.close();
    },
    gateway: withoutApolloTelemetry(
      () =>
        new ApolloGateway({
          supergraphSdl: supergraph.hook,
          logger: log,
          buildService: ({ name, url }) => {
            const target = subgraphUrl(name, url, opts.subgraphUrls ?? {}, config.subgraphUrlOverrides);
            subgraphs.set(name, target);
            const source = new SubgraphDataSource({
              name,
              url: target,
              fetcher: fetcher.fetch,
              credentials,
              log,
              observe: (subgraph, outcome, seconds) => subgraphFetches.observe({ subgraph, outcome }, seconds),
            });
            dataSources.set(name, source);
            return source;
          },
        }),
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
function createHttpShell(config: ServiceConfig, metrics: Metrics, ready: Upstream['ready'], log: Logger) {
  const app = express();
  app.disable('x-powered-by');
  app.use(recordHttpDuration(metrics), correlationId(), securityHeaders(config.production));
  // CORS only for the allowed browser origins (CORS_ORIGINS); none by default.
  if (config.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: config.corsOrigins,
        allowedHeaders: ['content-type', 'authorization', 'x-correlation-id', 'idempotency-key', 'apollo-require-preflight'],
        exposedHeaders: ['x-correlation-id', 'retry-after'],
        maxAge: 600,
      }),
    );
  }
  const shell = createHttpApp({ metrics, ready, production: config.production, metricsToken: config.metricsToken });
  app.use(shell);
  // Routes mounted on `shell` later still come first: these answer what nothing else did.
  app.use(...requestErrorHandlers(log));
  return { shell, server: createServer(app) };
}

function createApollo(
  config: ServiceConfig,
  gateway: ApolloGateway,
  httpServer: Server,
  log: Logger,
  validationRules: ValidationRule[],
  parseOptions: ParseOptions,
) {
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    unexpectedErrorLogging(log),
    operationResolution(),
    // No NUL or unpaired surrogate in a text input (subscriptions: the owning subgraph checks).
    safeTextInputs(),
    errorCap(config.maxErrors),
    config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ footer: false }),
  ];
  return new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    // runService owns SIGINT/SIGTERM: Apollo's own handlers would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatGatewayError(errorFormatter(), { blockFieldSuggestions: config.production }),
    csrfPrevention: true,
    introspection: !config.production,
    validationRules,
    parseOptions,
    plugins,
  });
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
  supergraph: SupergraphSource;
  upstream: Upstream;
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  verifier: TokenVerifier;
  clock: Clock;
  log: Logger;
}

/**
 * Subscriptions on the gateway's HTTP server, on the bus given or one of its own (closed
 * with it). Hot reloads move running subscriptions to the new supergraph when still valid.
 */
function startLive(config: ServiceConfig, options: Partial<LiveOptions> | undefined, deps: LiveDeps) {
  const bus = options?.bus ?? createLiveBus(config);
  const server = createLiveServer({
    httpServer: deps.httpServer,
    supergraphSdl: deps.supergraph.sdl(),
    services: () => Object.fromEntries(deps.upstream.dataSources),
    validationRules: deps.validationRules,
    parseOptions: deps.parseOptions,
    verifier: deps.verifier,
    clock: deps.clock,
    log: deps.log,
    options: { ...options, bus },
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
function formatGatewayError(format: ReturnType<typeof errorFormatter>, opts: { blockFieldSuggestions: boolean }): ReturnType<typeof errorFormatter> {
  const PREFIX = 'Context creation failed: ';
  return (formatted) => {
    let out = format(formatted);
    // GraphQL Armor's block-field-suggestions, for Apollo: "Did you mean ...?" tells a stranger the schema.
    if (opts.blockFieldSuggestions) out = { ...out, message: withoutFieldSuggestions(out.message) };
    return out.extensions?.code === ErrorCode.UNAUTHENTICATED && out.message.startsWith(PREFIX) ? { ...out, message: out.message.slice(PREFIX.length) } : out;
  };
}

type Fetch = ReturnType<typeof createKeepAliveFetcher>['fetch'];

/** Ready when the supergraph is loaded and every subgraph's `/health` answers; the detail names the supergraph served. */
async function readiness(subgraphs: ReadonlyMap<string, string>, fetch: Fetch, loaded: boolean, supergraph: SupergraphStatus) {
  if (!loaded) return { ok: false, detail: { supergraph: 'not loaded' } };
  const checks = await Promise.all(
    [...subgraphs].map(async ([name, url]) => {
      try {
        const res = await fetch(healthUrl(url), { method: 'GET' });
        await res.text();
        return [name, res.ok ? 'up' : `down: /health answered ${res.status}`] as const;
      } catch (err) {
        return [name, `down: ${err instanceof Error ? err.message || (err as { code?: string }).code : String(err)}`] as const;
      }
    }),
  );
  return { ok: checks.every(([, state]) => state === 'up'), detail: { supergraph, subgraphs: Object.fromEntries(checks) } };
}
