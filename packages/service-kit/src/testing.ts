import { randomBytes } from 'node:crypto';
import { createEventWriter, type Channel, type EventEnvelope, type EventHandler } from '@fitsync/events';
import type { LiveMessage, LivePublisher } from '@fitsync/live';
import { localDate, pinnedClock, systemClock, type Clock, type PinnedClock } from './clock.js';
import { createLogger } from './logger.js';
import { loadConfig, type ServiceConfig, type ServiceName, type SubgraphName } from './config.js';
import type { RunningSubgraph } from './subgraph.js';
import { dropPostgresSchema, openDatabase, type Database, type Queryable } from './db.js';
import { SERVICE_TOKEN_HEADER, createServiceCredentials, signUserToken, type Viewer } from './auth.js';

/**
 * CI sets FITSYNC_REQUIRE_SERVICES=1: a test that needs Postgres or Redis then
 * fails when DATABASE_URL or REDIS_URL is missing, instead of quietly skipping.
 */
export const REQUIRE_SERVICES = process.env.FITSYNC_REQUIRE_SERVICES === '1';

export type StorageBackend = 'pglite' | 'postgres';

/** PGlite always; Postgres too when DATABASE_URL is set (and it must be in CI). */
export function storageBackends(): StorageBackend[] {
  if (process.env.DATABASE_URL) return ['pglite', 'postgres'];
  if (REQUIRE_SERVICES) throw new Error('FITSYNC_REQUIRE_SERVICES=1 but DATABASE_URL is not set: the Postgres storage tests cannot run');
  return ['pglite'];
}

export function redisUrlForTests(): string | undefined {
  const url = process.env.REDIS_URL;
  if (!url && REQUIRE_SERVICES) throw new Error('FITSYNC_REQUIRE_SERVICES=1 but REDIS_URL is not set');
  return url;
}

/**
 * The instants tests pin their clocks to, in the gym's time zone (vitest runs with TZ=UTC).
 * All fall on Sunday 31 January 2027, a day that ends a week, a month and (for ISO weeks)
 * sits next to a year boundary's neighbours: the awkward cases, on purpose.
 * `inSession` is during the demo client's first session of the day (07:00-08:00).
 */
export const PINNED_INSTANTS = {
  inSession: '2027-01-31T07:30:00',
  noon: '2027-01-31T12:00:00',
  beforeMidnight: '2027-01-31T23:59:30',
} as const;
export type PinnedInstant = keyof typeof PINNED_INSTANTS;

/**
 * A pinned clock for a test file and the gym's day it stands on: generate the demo gym for
 * `today`, start services with `clock`, compute expectations from both, never from the wall clock.
 */
export function testClock(at: PinnedInstant | Date | (string & {}) = 'noon'): { clock: PinnedClock; today: string } {
  const clock = pinnedClock(typeof at === 'string' && at in PINNED_INSTANTS ? PINNED_INSTANTS[at as PinnedInstant] : at);
  return { clock, today: localDate(clock()) };
}

export const TEST_JWT_SECRET = 'fitsync-test-jwt-secret-0123456789';
export const TEST_SERVICE_SECRET = 'fitsync-test-service-secret-0123456789';

/** A unique prefix for one test run's Postgres schemas. */
export const uniqueSchemaPrefix = () => `t_${randomBytes(4).toString('hex')}`;

/**
 * Config for a service under test: port 0, quiet logs, in-memory PGlite or a private
 * Postgres schema, and an EVENTS_PREFIX derived from `schemaPrefix`: services started
 * with one prefix share an event bus, and a later test never receives an earlier one's events.
 */
export function testConfig(
  service: ServiceName,
  backend: StorageBackend = 'pglite',
  schemaPrefix = uniqueSchemaPrefix(),
  env: NodeJS.ProcessEnv = {},
): ServiceConfig {
  return loadConfig(service, {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    [`${service.toUpperCase()}_PORT`]: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    SERVICE_SECRET: TEST_SERVICE_SECRET,
    DATA_DIR: 'memory://',
    SEED_DEMO: 'never',
    // Background jobs would add statements to the counts tests take; a test that wants the scheduler sets it.
    REMINDER_INTERVAL_MS: '0',
    MAIL_INTERVAL_MS: '0',
    EVENTS_PREFIX: `test-${schemaPrefix}`,
    ...(backend === 'postgres' ? { DATABASE_URL: process.env.DATABASE_URL, DB_SCHEMA: `${schemaPrefix}_${service}` } : {}),
    ...env,
  });
}

/** Opens a service's test database and returns how to throw it away. */
export async function openTestDatabase(service: string, migrationsDir: URL, backend: StorageBackend): Promise<{ db: Database; dispose(): Promise<void> }> {
  const schema = `${uniqueSchemaPrefix()}_${service}`;
  const db = await openDatabase({
    service,
    migrationsDir,
    log: createLogger(service, 'silent'),
    databaseUrl: backend === 'postgres' ? process.env.DATABASE_URL : undefined,
    schema,
    dataDir: 'memory://',
  });
  return {
    db,
    async dispose() {
      await db.close();
      if (backend === 'postgres') await dropPostgresSchema(process.env.DATABASE_URL!, schema);
    },
  };
}

/** A user token signed with the test secret, issued at `clock`'s now (pin it to the platform's clock). */
export const testToken = (viewer: Viewer, clock: Clock = systemClock, ttl = '1h') => signUserToken(viewer, TEST_JWT_SECRET, ttl, clock);

const testCredentials = createServiceCredentials('gateway', TEST_SERVICE_SECRET);

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

/**
 * A gateway answer without `extensions.cost`, the estimated cost every answer carries outside
 * production, for tests that compare whole answers and are not about cost; other extensions stay.
 */
export function withoutCost<A extends { extensions?: Record<string, unknown> }>(answer: A): A {
  const { extensions, ...rest } = answer;
  const others = Object.entries(extensions ?? {}).filter(([k]) => k !== 'cost');
  return (others.length ? { ...rest, extensions: Object.fromEntries(others) } : rest) as A;
}

/**
 * POSTs an operation to a subgraph as the gateway would (service credential,
 * the user's token when given). `service: false` leaves the credential off.
 */
export async function callSubgraph<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { token?: string; service?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: GraphQLResponse<T> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.service !== false) headers[SERVICE_TOKEN_HEADER] = await testCredentials.token();
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
}

export type { LiveMessage } from '@fitsync/live';

/** A live publisher that keeps every message, in order, for a test to read. */
export function recordingLive(): LivePublisher & { messages: LiveMessage[] } {
  const messages: LiveMessage[] = [];
  return {
    messages,
    async publish(topic, payload) {
      messages.push({ topic, payload });
    },
  };
}

/**
 * Runs one event handler as the consumer runtime does, minus the inbox: in a new
 * transaction, with an outbox writer that carries the event's correlation id and a
 * logger tagged with the event. Live messages are recorded only if the transaction commits.
 */
export async function handleEvent<C extends Channel>(
  db: Database,
  source: ServiceName,
  handler: EventHandler<C>,
  event: EventEnvelope<C>,
  live = recordingLive(),
): Promise<LiveMessage[]> {
  const pending = recordingLive();
  await db.transaction((tx) =>
    handler(event, {
      tx,
      events: createEventWriter({ source, correlationId: event.correlation_id }),
      live: pending,
      log: createLogger(source, 'silent').child({ event_id: event.event_id, event: event.event, correlation_id: event.correlation_id }),
    }),
  );
  live.messages.push(...pending.messages);
  return pending.messages;
}

/** One subgraph a test starts: its migrations, what to seed, how to start it. */
export interface TestSubgraphPart {
  name: SubgraphName;
  migrationsDir: URL;
  seed?(db: Database): Promise<void>;
  start(config: ServiceConfig, opts: { db: Database; clock: Clock }): Promise<RunningSubgraph>;
}

export interface TestSubgraphs {
  servers: Partial<Record<SubgraphName, RunningSubgraph>>;
  dbs: Partial<Record<SubgraphName, Database>>;
  /** Stops one subgraph (its service clients then see it down). */
  stop(name: SubgraphName): Promise<void>;
  /**
   * For outage tests that must not stop the shared subgraphs (every later test needs them):
   * `name` again over a database of its own, seeded as its part says (what it writes and
   * relays stays out of the shared one), calling instances of their own of every other part,
   * started over the shared databases (they write nothing here). Its `stop(other)` takes one
   * of those down; `close()` ends them all and drops its database.
   */
  isolate(name: SubgraphName): Promise<IsolatedSubgraph>;
  close(): Promise<void>;
}

export interface IsolatedSubgraph {
  server: RunningSubgraph;
  db: Database;
  stop(other: SubgraphName): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts subgraphs that call each other (validation through service clients): each on
 * port 0 with its own test database, all sharing one URL map filled in as they listen.
 */
export async function startTestSubgraphs(backend: StorageBackend, parts: TestSubgraphPart[], clock: Clock): Promise<TestSubgraphs> {
  const prefix = uniqueSchemaPrefix();
  const urls = {} as Record<SubgraphName, string>;
  const servers: TestSubgraphs['servers'] = {};
  const dbs: TestSubgraphs['dbs'] = {};
  const disposers: (() => Promise<void>)[] = [];
  const stopped = new Set<SubgraphName>();
  for (const part of parts) {
    const t = await openTestDatabase(part.name, part.migrationsDir, backend);
    disposers.push(() => t.dispose());
    await part.seed?.(t.db);
    const config = testConfig(part.name, backend, prefix);
    config.subgraphUrls = urls;
    const server = await part.start(config, { db: t.db, clock });
    servers[part.name] = server;
    dbs[part.name] = t.db;
    urls[part.name] = server.url;
  }
  return {
    servers,
    dbs,
    async stop(name) {
      if (stopped.has(name)) return;
      stopped.add(name);
      await servers[name]?.close();
    },
    async isolate(name) {
      const subject = parts.find((p) => p.name === name);
      if (!subject) throw new Error(`${name} is not one of these test subgraphs`);
      const others: Partial<Record<SubgraphName, RunningSubgraph>> = {};
      const otherUrls = {} as Record<SubgraphName, string>;
      for (const part of parts) {
        if (part === subject) continue;
        // Each on an events prefix of its own, as the subject: none of them consumes another's events, nor the shared ones'.
        const server = await part.start(testConfig(part.name, backend), { db: dbs[part.name]!, clock });
        others[part.name] = server;
        otherUrls[part.name] = server.url;
      }
      const own = await openTestDatabase(name, subject.migrationsDir, backend);
      await subject.seed?.(own.db);
      const config = testConfig(name, backend);
      config.subgraphUrls = { ...config.subgraphUrls, ...otherUrls };
      const server = await subject.start(config, { db: own.db, clock });
      const down = new Set<SubgraphName>();
      const stopOther = async (other: SubgraphName) => {
        if (down.has(other)) return;
        down.add(other);
        await others[other]?.close();
      };
      return {
        server,
        db: own.db,
        stop: stopOther,
        async close() {
          await server.close();
          for (const part of [...parts].reverse()) if (part !== subject) await stopOther(part.name);
          await own.dispose();
        },
      };
    },
    async close() {
      for (const part of [...parts].reverse()) if (!stopped.has(part.name)) await servers[part.name]?.close();
      for (const d of disposers) await d();
    },
  };
}

/**
 * `callSubgraph` with a fresh `x-correlation-id` per call (`<label>-1`, `<label>-2`, ...),
 * returned with the response so a test can find the events that call wrote.
 */
export function correlatedCaller(url: () => string, label: string) {
  let n = 0;
  return async (query: string, variables: Record<string, unknown>, token: string) => {
    const correlationId = `${label}-${++n}`;
    const { body } = await callSubgraph(url(), query, variables, { token, headers: { 'x-correlation-id': correlationId } });
    return { ...body, correlationId };
  };
}

/** The events a service has written to its outbox, in order. */
export const outboxEvents = (db: Queryable) => db.query<{ channel: string; envelope: any }>('SELECT channel, envelope FROM event_outbox ORDER BY seq');
