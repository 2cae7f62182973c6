// npm run seed -- --trainers 50 --clients 2000 --bookings-per-client 50 [--data-dir DIR] [--reset]
// Generates one gym and writes each subgraph's slice into that subgraph's own database,
// exactly where the services look for it (PGlite under DATA_DIR/<subgraph>, or the
// subgraph's schema in DATABASE_URL). Stop `npm start` first when using PGlite.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_LOGINS, DEMO_PASSWORD, generateGym } from '@fitsync/demo-data';
import { localDate } from '@fitsync/service-kit/clock';
import {
  ConfigError,
  SUBGRAPHS,
  createLogger,
  dropPostgresSchema,
  systemClock,
  loadConfig,
  openDatabase,
  type Queryable,
  type SubgraphName,
} from '@fitsync/service-kit';
import { provisionPgliteFolders } from './start.js';
import { ALL_SUBGRAPHS } from './subgraphs.js';

const USAGE = `Usage: npm run seed -- [options]
  --trainers N              trainers (default 50)
  --clients N               clients, spread evenly over the trainers (default 2000)
  --bookings-per-client N   bookings per client, half past and half coming (default 50)
  --data-dir DIR            PGlite folder (default DATA_DIR or .data); ignored with DATABASE_URL
  --reset                   empty the databases first (remove the folders / drop the schemas)
  --today YYYY-MM-DD        the gym's today (default: the local date)
  --seed N                  random seed (default 1); the same options give the same ids
  --only a,b                only these subgraphs (${SUBGRAPHS.join(', ')})
The three demo logins (password ${DEMO_PASSWORD}) are always included.`;

function parse() {
  const { values } = parseArgs({
    options: {
      trainers: { type: 'string', default: '50' },
      clients: { type: 'string', default: '2000' },
      'bookings-per-client': { type: 'string', default: '50' },
      'data-dir': { type: 'string' },
      reset: { type: 'boolean', default: false },
      today: { type: 'string' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const count = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SUBGRAPHS];
  for (const s of only) if (!(SUBGRAPHS as readonly string[]).includes(s)) fail(`--only: unknown subgraph ${s}`);
  const today = values.today ?? localDate(systemClock());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) fail(`--today must be YYYY-MM-DD, got ${today}`);
  return {
    trainers: count('trainers', values.trainers, 1),
    clients: count('clients', values.clients, 1),
    bookingsPerClient: count('bookings-per-client', values['bookings-per-client'], 0),
    dataDir: values['data-dir'],
    reset: values.reset,
    today,
    seed: count('seed', values.seed, 0),
    only: only as SubgraphName[],
  };
}

/** Stops the seed with a message and no stack trace. */
class Refusal extends Error {}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(1);
}

/** Tables of the database's current schema that hold rows (schema_migrations aside). */
async function tablesWithRows(db: Queryable): Promise<string[]> {
  const tables = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const [row] = await db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM "${name}") AS any`);
    if (row.any) found.push(name);
  }
  return found;
}

async function main() {
  const opts = parse();
  // Quieter than a service unless LOG_LEVEL says otherwise: the seed prints its own progress.
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', ...process.env, ...(opts.dataDir ? { DATA_DIR: opts.dataDir } : {}) };
  // Each subgraph's own schema, as npm start runs them (DB_SCHEMA is per service).
  delete env.DB_SCHEMA;
  const configs = Object.fromEntries(
    opts.only.map((name) => {
      try {
        return [name, loadConfig(name, env)];
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message);
        throw err;
      }
    }),
  ) as Record<SubgraphName, ReturnType<typeof loadConfig>>;
  const first = configs[opts.only[0]];
  const postgres = first.databaseUrl;
  const dataDir = resolve(first.dataDir);
  const where = postgres ? `Postgres ${new URL(postgres).host}${new URL(postgres).pathname}, one schema per subgraph` : `PGlite under ${dataDir}`;

  const started = Date.now();
  const gym = generateGym({
    trainers: opts.trainers,
    clients: opts.clients,
    bookingsPerClient: opts.bookingsPerClient,
    today: opts.today,
    seed: opts.seed,
    demoLogins: true,
  });
  const counts = {
    users: gym.users.length,
    trainers: gym.users.filter((u) => u.role === 'TRAINER').length,
    clients: gym.users.filter((u) => u.role === 'CLIENT').length,
    'coaching relationships': gym.coaching.length,
    programs: gym.programs.length,
    bookings: gym.bookings.length,
    'body metrics': gym.bodyMetrics.length,
    'workout logs': gym.workoutLogs.length,
    achievements: gym.achievements.length,
    goals: gym.goals.length,
    notifications: gym.notifications.length,
  };
  console.log(
    `Generated a gym for ${opts.today} in ${Date.now() - started} ms: ${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  );
  console.log(`Seeding ${opts.only.join(', ')} into ${where}${opts.reset ? ' (reset first)' : ''}`);

  if (opts.reset) {
    for (const name of opts.only) {
      if (postgres) await dropPostgresSchema(postgres, configs[name].dbSchema);
      else await rm(join(dataDir, name), { recursive: true, force: true });
    }
  }
  if (!postgres) await provisionPgliteFolders(dataDir, opts.only);

  const log = createLogger('seed', first.logLevel);
  for (const name of opts.only) {
    const t = Date.now();
    const config = configs[name];
    const db = await openDatabase({
      service: name,
      migrationsDir: ALL_SUBGRAPHS[name].definition.migrationsDir,
      log,
      databaseUrl: config.databaseUrl,
      schema: config.dbSchema,
      dataDir: join(dataDir, name),
    });
    try {
      const filled = await tablesWithRows(db);
      if (filled.length) throw new Refusal(`${name}: ${db.location} already holds data (${filled.join(', ')}). Pass --reset to replace it.`);
      // All or nothing: a failed seed leaves an empty database, not half a gym.
      await db.transaction((tx) => ALL_SUBGRAPHS[name].seed(tx, gym));
      console.log(`  ${name.padEnd(14)} ${((Date.now() - t) / 1000).toFixed(1).padStart(5)}s  ${db.location}`);
    } finally {
      await db.close();
    }
  }
  console.log(`Done in ${((Date.now() - started) / 1000).toFixed(1)}s. Logins: ${Object.values(DEMO_LOGINS).join(', ')} (password ${DEMO_PASSWORD});`);
  console.log('Every other account (trainer2@gym.fitsync.test, client2@gym.fitsync.test, ...) has the same password.');
}

main().catch((err) => {
  console.error(err instanceof Refusal ? err.message : err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
