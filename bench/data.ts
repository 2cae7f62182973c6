import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateGym, type Gym } from '@fitsync/demo-data';
import { localDate } from '@fitsync/service-kit/clock';
import { SUBGRAPHS, createLogger, dropPostgresSchema, openDatabase, type SubgraphName } from '@fitsync/service-kit';
import { provisionPgliteFolders } from '../scripts/start.js';
import { ALL_SUBGRAPHS } from '../scripts/subgraphs.js';

/** Where the benchmark's subgraphs keep their data, and how to throw it away. */
export interface BenchData {
  gym: Gym;
  /** What each subgraph process needs in its environment to find its slice. */
  envFor(name: SubgraphName): NodeJS.ProcessEnv;
  where: string;
  seedSeconds: number;
  dispose(): Promise<void>;
}

/**
 * Generates the benchmark gym (50 trainers, 2,000 clients, 50 bookings each at
 * scale 1) and writes each subgraph's slice into its own database: a schema of
 * its own in DATABASE_URL (dropped afterwards), else a PGlite folder in a
 * temporary directory.
 */
export async function seedBenchData(opts: { scale: number; databaseUrl?: string }): Promise<BenchData> {
  const started = Date.now();
  const gym = generateGym({
    trainers: Math.max(1, Math.round(50 * opts.scale)),
    clients: Math.max(1, Math.round(2000 * opts.scale)),
    bookingsPerClient: 50,
    today: localDate(new Date()),
    seed: 1,
    demoLogins: true,
  });
  const log = createLogger('bench', 'warn');
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  const dir = opts.databaseUrl ? undefined : await mkdtemp(join(tmpdir(), 'fitsync-bench-'));
  if (dir) await provisionPgliteFolders(dir, SUBGRAPHS);
  const schemaOf = (name: SubgraphName) => `${prefix}_${name}`;
  try {
    await Promise.all(
      SUBGRAPHS.map(async (name) => {
        const subgraph = ALL_SUBGRAPHS[name];
        const db = await openDatabase({
          service: name,
          migrationsDir: subgraph.definition.migrationsDir,
          log,
          databaseUrl: opts.databaseUrl,
          schema: schemaOf(name),
          dataDir: dir && join(dir, name),
        });
        try {
          await db.transaction((tx) => subgraph.seed(tx, gym));
          // Fresh statistics, as a database that has been running a while would have.
          await db.query('ANALYZE');
        } finally {
          await db.close();
        }
      }),
    );
  } catch (err) {
    await dispose();
    throw err;
  }
  async function dispose() {
    if (dir) await rm(dir, { recursive: true, force: true });
    else await Promise.all(SUBGRAPHS.map((name) => dropPostgresSchema(opts.databaseUrl!, schemaOf(name)).catch(() => undefined)));
  }
  return {
    gym,
    where: dir ? `PGlite under ${dir}` : `Postgres, schemas ${prefix}_<subgraph>`,
    seedSeconds: (Date.now() - started) / 1000,
    envFor: (name) => (dir ? { DATA_DIR: dir } : { DATABASE_URL: opts.databaseUrl, DB_SCHEMA: schemaOf(name) }),
    dispose,
  };
}
