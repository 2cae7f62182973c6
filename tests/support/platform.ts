import { fileURLToPath } from 'node:url';
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import type { Gym } from '@fitsync/demo-data';
import { waitForEvents } from '@fitsync/events';
import { createGateway, type GatewayOptions, type RunningGateway } from '@fitsync/gateway';
import { SUBGRAPHS, type Clock, type Database, type RunningSubgraph, type ServiceConfig, type SubgraphName } from '@fitsync/service-kit';
import { openTestDatabase, redisUrlForTests, testConfig, testToken, uniqueSchemaPrefix, type StorageBackend } from '@fitsync/service-kit/testing';
import { ALL_SUBGRAPHS } from '../../scripts/subgraphs.js';

// A restarted consumer takes over its predecessor's unacknowledged entries after this idle time.
const EVENT_TIMINGS = { consumer: { claimIdleMs: 1_000, retryDelayMs: 50 } };

export interface GraphQLResult<T = any> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface Platform {
  gatewayUrl: string;
  gateway: RunningGateway;
  /** Another gateway on the same subgraphs (closed with the platform). */
  startGateway(opts?: GatewayOptions, env?: Record<string, string>): Promise<RunningGateway>;
  /** The supergraph composed from supergraph.yaml's sources (routing URLs are overridden per gateway). */
  sources: Awaited<ReturnType<typeof loadSupergraphConfig>>;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  databases: Record<SubgraphName, Database>;
  /** POSTs an operation to the gateway, as the given user when a token is passed (and with extra headers). */
  query<T = any>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GraphQLResult<T>>;
  /** A token for the user, issued now on the platform's clock. */
  tokenFor(user: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }): Promise<string>;
  /** The clock every service and gateway of this platform reads. */
  clock: Clock;
  /** Stops one subgraph (to see how the graph degrades). */
  stop(name: SubgraphName): Promise<void>;
  /** Starts a stopped subgraph again on its database and port. */
  restart(name: SubgraphName): Promise<void>;
  /** EVENTS_PREFIX shared by every service and gateway of this platform. */
  eventsPrefix: string;
  /** Waits until every running subgraph has published its outbox and handled what waits for it. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole platform in this process: five subgraphs on port 0, each on its own
 * database (in-memory PGlite, or its own Postgres schema), seeded with the given
 * gyms, and the gateway composed from supergraph.yaml pointing at them.
 */
export interface PlatformOptions {
  gateway?: GatewayOptions;
  /**
   * How events and live messages travel: `memory` (one bus in this process, as without
   * REDIS_URL) or `redis` (REDIS_URL, streams and channels under this platform's own prefix).
   */
  transport?: 'memory' | 'redis';
  /** The Redis server for transport `redis` (default REDIS_URL): a drill's private one. */
  redisUrl?: string;
  /**
   * What time it is for every subgraph and gateway (pin it with `testClock()` and generate
   * the gyms for its day, so no expectation depends on the wall clock).
   */
  clock: Clock;
  /** More environment for one subgraph's config (the notifications subgraph's SMTP_URL and MAIL_INTERVAL_MS, say). */
  env?: Partial<Record<SubgraphName, Record<string, string>>>;
}

export async function startPlatform(backend: StorageBackend, gyms: Gym[], opts: PlatformOptions): Promise<Platform> {
  const { clock } = opts;
  const prefix = uniqueSchemaPrefix();
  const redisUrl = opts.transport === 'redis' ? (opts.redisUrl ?? redisUrlForTests()) : undefined;
  if (opts.transport === 'redis' && !redisUrl) throw new Error('transport redis needs REDIS_URL');
  // Every service and the gateway on one bus: the same prefix, and Redis when asked for.
  const busEnv = { EVENTS_PREFIX: `test-${prefix}`, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
  const configs = {} as Record<SubgraphName, ServiceConfig>;
  const subgraphs = {} as Record<SubgraphName, RunningSubgraph>;
  const databases = {} as Record<SubgraphName, Database>;
  const disposers: (() => Promise<void>)[] = [];
  const stopped = new Set<SubgraphName>();
  // Subgraphs call each other (validation): one shared map, filled in as each one listens
  // on its port; service clients read it on every call.
  const urls = {} as Record<SubgraphName, string>;
  await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const part = ALL_SUBGRAPHS[name];
      const t = await openTestDatabase(name, part.definition.migrationsDir, backend);
      disposers.push(t.dispose);
      for (const gym of gyms) await part.seed(t.db, gym);
      databases[name] = t.db;
      const config = testConfig(name, backend, prefix, { ...busEnv, ...opts.env?.[name] });
      config.subgraphUrls = urls;
      configs[name] = config;
      subgraphs[name] = await part.start(config, { db: t.db, events: EVENT_TIMINGS, clock });
      urls[name] = subgraphs[name].url;
    }),
  );
  const sources = await loadSupergraphConfig(fileURLToPath(new URL('../../supergraph.yaml', import.meta.url)));
  const composed = compose(sources);
  if (!composed.ok) throw new Error(`supergraph.yaml does not compose: ${composed.problems.map((p) => p.message).join('; ')}`);
  const gateways: RunningGateway[] = [];
  const startGateway = async (extra: GatewayOptions = {}, env: Record<string, string> = {}) => {
    const gw = await createGateway(testConfig('gateway', backend, prefix, { ...busEnv, ...env }), {
      supergraphSdl: composed.supergraphSdl,
      subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([n, s]) => [n, s.url])),
      clock,
      ...extra,
    });
    gateways.push(gw);
    const close = gw.close.bind(gw);
    gw.close = async () => {
      gateways.splice(gateways.indexOf(gw), 1);
      await close();
    };
    return gw;
  };
  const gateway = await startGateway(opts.gateway);
  // The links in emails point at this platform's gateway (PUBLIC_URL), known once it listens.
  configs.notifications.mail.publicUrl = new URL(gateway.url).origin;
  return {
    gatewayUrl: gateway.url,
    gateway,
    startGateway,
    sources,
    eventsPrefix: busEnv.EVENTS_PREFIX,
    subgraphs,
    databases,
    async query(query, variables = {}, token, headers = {}) {
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResult;
    },
    tokenFor: (user) => testToken(user, clock),
    clock,
    async stop(name) {
      stopped.add(name);
      await subgraphs[name].close();
    },
    async restart(name) {
      if (!stopped.has(name)) await subgraphs[name].close();
      // A new port (0: never one found free and bound later), announced to the other
      // subgraphs through the shared map and to every gateway of the platform.
      subgraphs[name] = await ALL_SUBGRAPHS[name].start({ ...configs[name], port: 0 }, { db: databases[name], events: EVENT_TIMINGS, clock });
      urls[name] = subgraphs[name].url;
      for (const gw of gateways) gw.moveSubgraph(name, subgraphs[name].url);
      stopped.delete(name);
    },
    async settle(timeoutMs) {
      await waitForEvents(
        (Object.keys(subgraphs) as SubgraphName[]).filter((n) => !stopped.has(n)).map((n) => subgraphs[n].events),
        timeoutMs,
      );
    },
    async close() {
      await Promise.all(gateways.map((g) => g.close()));
      await Promise.all((Object.keys(subgraphs) as SubgraphName[]).filter((n) => !stopped.has(n)).map((n) => subgraphs[n].close()));
      await Promise.all(disposers.map((d) => d()));
    },
  };
}
