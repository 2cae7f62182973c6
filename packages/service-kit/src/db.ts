import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { EVENTS_MIGRATIONS_DIR } from '@fitsync/events';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCode } from './errors.js';
import { tracedStatement } from './tracing.js';

/** Anything that runs one SQL statement: the database itself or an open transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives: a folder for PGlite, `schema@host/db` for Postgres. */
  readonly location: string;
  /** Statements run since open; tests and benchmarks read it to prove batching. */
  readonly stats: { statements: number };
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The same database for a service's background work (the event relay and consumer):
   * its statements are not in `stats`, so a test counting a request's statements does
   * not see a relay poll that happened meanwhile. Prometheus still counts them.
   */
  readonly background: Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> };
  /** True when the migrations created the schema in this process (a new data folder). */
  readonly fresh: boolean;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  service: string;
  /**
   * Folder of `NNN_name.sql` files applied in order, once each, after the platform's
   * own (the event outbox and inbox every service has).
   */
  migrationsDir: string | URL;
  log: Logger;
  /** Postgres server; unset means embedded PGlite. */
  databaseUrl?: string;
  /** Postgres schema for this service's tables (database per service). */
  schema?: string;
  /** PGlite folder; `memory://` keeps it in memory. */
  dataDir?: string;
  poolSize?: number;
  /** Called after each statement, for metrics. */
  onStatement?: () => void;
}

// Dates stay 'YYYY-MM-DD' strings (no time-zone shift), numerics become numbers:
// both drivers hand resolvers the same row shapes.
const DATE_OID = 1082;
const NUMERIC_OID = 1700;
const INT8_OID = 20;
pg.types.setTypeParser(DATE_OID, (v: string) => v);
pg.types.setTypeParser(NUMERIC_OID, (v: string) => Number.parseFloat(v));
pg.types.setTypeParser(INT8_OID, (v: string) => Number.parseInt(v, 10));
const pgliteParsers = {
  [pgliteTypes.DATE]: (v: string) => v,
  [pgliteTypes.NUMERIC]: (v: string) => Number.parseFloat(v),
  [pgliteTypes.INT8]: (v: string) => Number.parseInt(v, 10),
};

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

async function readMigrationsDir(dir: string | URL) {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files = (await readdir(path)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (f) => ({ version: f.replace(/\.sql$/, ''), sql: await readFile(join(path, f), 'utf8') })));
}

/** The platform's migrations (event outbox and inbox), then the service's own. */
async function readMigrations(dir: string | URL) {
  const own = resolve(typeof dir === 'string' ? dir : fileURLToPath(dir));
  const all = [...(await readMigrationsDir(EVENTS_MIGRATIONS_DIR)), ...(own === resolve(EVENTS_MIGRATIONS_DIR) ? [] : await readMigrationsDir(own))];
  const seen = new Set<string>();
  for (const m of all) {
    if (seen.has(m.version)) throw new Error(`migration ${m.version} exists twice: rename the service's file`);
    seen.add(m.version);
  }
  return all;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const db = opts.databaseUrl ? await openPostgres(opts) : await openPglite(opts);
  return db;
}

async function openPglite(opts: OpenDatabaseOptions): Promise<Database> {
  const dir = opts.dataDir ?? 'memory://';
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const lite = await PGlite.create({ dataDir: dir, parsers: pgliteParsers });
  const stats = { statements: 0 };
  const count = (counted: boolean) => {
    if (counted) stats.statements++;
    opts.onStatement?.();
  };
  const wrap = (q: Pick<PGlite, 'query'>, counted = true): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      count(counted);
      return (await tracedStatement(sql, () => q.query<R>(sql, params as unknown[]))).rows;
    },
  });
  const migrate = async () => {
    await lite.exec(MIGRATIONS_TABLE);
    const applied = new Set((await lite.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const pending = (await readMigrations(opts.migrationsDir)).filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await lite.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      });
      opts.log.info({ migration: m.version }, 'migration applied');
    }
    return applied.size === 0 && pending.length > 0;
  };
  const fresh = await migrate();
  return {
    kind: 'pglite',
    location: dir,
    stats,
    fresh,
    ...wrap(lite),
    transaction: (fn) => lite.transaction((tx) => fn(wrap(tx))),
    background: { ...wrap(lite, false), transaction: (fn) => lite.transaction((tx) => fn(wrap(tx, false))) },
    close: () => lite.close(),
  };
}

async function openPostgres(opts: OpenDatabaseOptions): Promise<Database> {
  const schema = opts.schema ?? opts.service;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  // Create the schema before the pool pins search_path to it.
  const admin = new pg.Client({ connectionString: opts.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    options: `-c search_path="${schema}"`,
    // Who holds a connection, in pg_stat_activity: the service and its schema (63 bytes at most).
    application_name: `fitsync-${opts.service} ${schema}`.slice(0, 63),
  });
  // A connection the server ended while idle (a restart, pg_terminate_backend): the pool drops it and opens another when asked.
  pool.on('error', (err) => opts.log.warn({ err }, 'idle postgres connection lost; the pool replaces it'));
  const stats = { statements: 0 };
  const count = (counted: boolean) => {
    if (counted) stats.statements++;
    opts.onStatement?.();
  };
  // A statement that failed because the connection (or the server) went away is the service being
  // unavailable, not an internal error: the client may retry, and the answer says nothing of the inside.
  const unavailable = (err: unknown): unknown => {
    if (!connectionLost(err)) return err;
    opts.log.warn({ err }, 'postgres connection lost; the statement failed');
    return new GraphQLError(`The ${opts.service} service is unavailable`, {
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, service: opts.service },
      originalError: err as Error,
    });
  };
  const wrap = (q: pg.Pool | pg.PoolClient, counted = true): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      count(counted);
      try {
        return (await q.query(sql, params as unknown[])).rows as R[];
      } catch (err) {
        throw unavailable(err);
      }
    },
  });
  const transaction = async <T>(fn: (tx: Queryable) => Promise<T>, counted = true): Promise<T> => {
    const client = await pool.connect().catch((err: unknown) => {
      throw unavailable(err);
    });
    // Checked out, a client has no pool listener: a connection ended between two statements
    // would be an unhandled 'error' event and take the process down. It is kept here, and the
    // client is destroyed on release instead of going back to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    const control = (sql: 'BEGIN' | 'COMMIT') =>
      client.query(sql).catch((err: unknown) => {
        throw unavailable(err);
      });
    try {
      await control('BEGIN');
      const result = await fn(wrap(client, counted));
      await control('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
        broken ??= rollbackFailed;
      });
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };
  // Replicas starting together take turns at the migrations.
  const fresh = await transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fitsync-migrate:${schema}`]);
    await tx.query(MIGRATIONS_TABLE);
    const applied = new Set((await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const pending = (await readMigrations(opts.migrationsDir)).filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await tx.query(m.sql);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      opts.log.info({ migration: m.version, schema }, 'migration applied');
    }
    return applied.size === 0 && pending.length > 0;
  });
  const url = new URL(opts.databaseUrl!);
  return {
    kind: 'postgres',
    location: `${schema}@${url.host}${url.pathname}`,
    stats,
    fresh,
    ...wrap(pool),
    transaction: (fn) => transaction(fn),
    background: { ...wrap(pool, false), transaction: (fn) => transaction(fn, false) },
    close: () => pool.end(),
  };
}

/** Drops a service's Postgres schema; tests use it to clean up what they created. */
export async function dropPostgresSchema(databaseUrl: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Postgres error classes 08 (connection exception) and 57P01-57P03 (shut down, crashed, not yet accepting). */
const LOST_SQLSTATE = /^(08|57P0[1-3])/;
const LOST_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
const LOST_MESSAGE = /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

/** Whether a driver error means the connection or the server went away (rather than a statement failing). */
export function connectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (LOST_SQLSTATE.test(code) || LOST_SOCKET.has(code))) return true;
  return LOST_MESSAGE.test(err.message);
}
