import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createLiveBus, type LiveBus } from '@fitsync/live';
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
  listen,
  recordHttpDuration,
  systemClock,
  type Clock,
  type Listening,
  type Logger,
  type Metrics,
  type ServiceConfig,
  type SubgraphName,
} from '@fitsync/service-kit';
import { createContext, correlationId, type GatewayContext } from './context.js';
import { SubgraphDataSource } from './datasource.js';
import { createKeepAliveFetcher } from './fetcher.js';
import { DEFAULT_LIMITS, operationLimitsRule, type OperationLimits } from './limits.js';
import { SupergraphError, healthUrl, subgraphUrl } from './supergraph.js';
import { openSupergraphSource, type SupergraphSource, type SupergraphStatus } from './supergraph-source.js';

export type { SchemaChange, SchemaChangeListener, SupergraphStatus } from './supergraph-source.js';
import { createLiveServer, type LiveOptions, type LiveServer } from './live/server.js';

export type { LiveOptions } from './live/server.js';

export interface GatewayOptions {
  /**
   * Business time: user tokens are checked, and subscriptions end at their token's
   * expiry, by this clock. Default the system clock; tests pin one and advance it.
   */
  clock?: Clock;
  /** Serve this supergraph instead of reading SUPERGRAPH_PATH (tests). */
  supergraphSdl?: string;
  /** Send a subgraph's requests here instead of its routing URL. */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
  /** Where `<NAME>_URL` overrides are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Limits on incoming operations (default depth 15, 30 aliases). */
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

export interface RunningGateway extends Listening {
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
}

/**
 * Builds the gateway and listens on `config.port` (0 in tests): loads the
 * supergraph, plans and executes client operations against the subgraphs it
 * names, and serves `/graphql`, `/health`, `/ready` and `/metrics`.
 */
export async function createGateway(config: ServiceConfig, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const log = createLogger('gateway', config.logLevel);
  const metrics = createMetrics('gateway');
  const env = opts.env ?? process.env;
  const clock = opts.clock ?? systemClock;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const supergraph = await openSupergraphSource(config, log, metrics, opts.supergraphSdl);
  // @apollo/gateway otherwise reports anonymous usage to Apollo and probes cloud
  // metadata endpoints at start-up; a private platform opts in explicitly if it wants that.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';

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
  let loaded = false;
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.hook,
    logger: log,
    buildService: ({ name, url }) => {
      const target = subgraphUrl(name, url, opts.subgraphUrls ?? {}, env);
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
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(recordHttpDuration(metrics), correlationId());
  const shell = createHttpApp({ metrics, ready: () => readiness(subgraphs, probe.fetch, loaded, supergraph.status()) });
  app.use(shell);
  const httpServer = createServer(app);

  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    unexpectedErrorLogging(log),
    config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ footer: false }),
  ];
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: log,
    // runService owns SIGINT/SIGTERM: Apollo's own handlers would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatGatewayError(errorFormatter()),
    csrfPrevention: true,
    introspection: !config.production,
    validationRules: [operationLimitsRule(limits)],
    plugins,
  });

  try {
    await apollo.start();
  } catch (err) {
    await supergraph.close();
    fetcher.close();
    probe.close();
    if (err instanceof SupergraphError) throw err;
    throw new SupergraphError(`cannot serve the supergraph (${supergraph.source}): ${err instanceof Error ? err.message : String(err)}`);
  }
  loaded = true;
  log.info({ supergraph: supergraph.source, hash: supergraph.status().hash, subgraphs: Object.fromEntries(subgraphs) }, 'supergraph loaded');

  const verifier = createTokenVerifier(config.jwtSecret, config.serviceSecret, clock);
  let live: LiveServer | undefined;
  let ownBus: LiveBus | undefined;
  if (opts.live !== false) {
    const bus = opts.live?.bus ?? (ownBus = createLiveBus(config));
    live = createLiveServer({
      httpServer,
      supergraphSdl: supergraph.sdl(),
      services: () => Object.fromEntries(dataSources),
      validationRules: [operationLimitsRule(limits)],
      verifier,
      clock,
      log,
      options: { ...opts.live, bus },
    });
  }
  // Hot reloads: running subscriptions move to the new supergraph when still valid.
  const unfollow = live ? supergraph.onSchemaChange((change) => live!.updateSupergraph(change.supergraphSdl)) : undefined;
  const context = createContext(verifier, log);
  shell.use('/graphql', ...(live ? [live.sse] : []), express.json({ limit: '1mb' }), expressMiddleware(apollo, { context }));

  const listening = await listen(httpServer, config.port, config.host, '/graphql', log);
  return {
    ...listening,
    log,
    metrics,
    subgraphs,
    supergraphSource: supergraph.source,
    supergraph,
    live,
    async close() {
      unfollow?.();
      await live?.close();
      await ownBus?.close();
      await supergraph.close();
      await apollo.stop();
      await listening.close();
      fetcher.close();
      probe.close();
    },
  };
}

/**
 * Apollo Server prefixes errors thrown by the context function with "Context
 * creation failed: "; for a refused token that is noise to the client.
 */
function formatGatewayError(format: ReturnType<typeof errorFormatter>): ReturnType<typeof errorFormatter> {
  const PREFIX = 'Context creation failed: ';
  return (formatted) => {
    const out = format(formatted);
    return out.extensions?.code === ErrorCode.UNAUTHENTICATED && out.message.startsWith(PREFIX)
      ? { ...out, message: out.message.slice(PREFIX.length) }
      : out;
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
