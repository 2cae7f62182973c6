// npm run admin:create -- --email admin@example.com [--name "Ada Admin"]
// Creates an ADMIN account in the users database the users subgraph uses (PGlite under
// DATA_DIR/users, or the users schema in DATABASE_URL): admins cannot register themselves,
// and production never seeds, so this is how the first admin is made. The password comes
// from ADMIN_PASSWORD, or from stdin (typed at a prompt, or piped). Refuses an email that
// already has an account.
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ConfigError, createLogger, loadConfig, openDatabase, systemClock } from '@fitsync/service-kit';
import { AdminRefused, createAdmin, usersSubgraph } from '@fitsync/users';
import { provisionPgliteFolders } from './start.js';

const USAGE = `Usage: npm run admin:create -- --email EMAIL [--name NAME]
  --email EMAIL   the admin's login
  --name NAME     shown name (default "Admin")
The password is read from ADMIN_PASSWORD, else from stdin (at least 8 characters).
The database is the users subgraph's: DATABASE_URL (schema users, or DB_SCHEMA), else PGlite under DATA_DIR/users.`;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** The password: ADMIN_PASSWORD, or a line typed at a prompt that does not echo it, or everything piped in (one trailing newline dropped). */
async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD !== undefined) return process.env.ADMIN_PASSWORD;
  if (process.stdin.isTTY) {
    process.stderr.write('Password: ');
    const silent = new Writable({ write: (_chunk, _enc, done) => done() });
    const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
    const line = await new Promise<string>((done) => rl.once('line', done));
    rl.close();
    process.stderr.write('\n');
    return line;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main() {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, name: { type: 'string', default: 'Admin' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.email) fail(`--email is required\n\n${USAGE}`);
  let config;
  try {
    config = loadConfig('users', { LOG_LEVEL: 'warn', ...process.env });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const password = await readPassword();
  const log = createLogger('admin-create', config.logLevel);
  const dataDir = resolve(config.dataDir);
  if (!config.databaseUrl && !config.dataDir.startsWith('memory://')) await provisionPgliteFolders(dataDir, ['users']);
  const db = await openDatabase({
    service: 'users',
    migrationsDir: usersSubgraph.migrationsDir,
    log,
    databaseUrl: config.databaseUrl,
    schema: config.dbSchema,
    dataDir: join(dataDir, 'users'),
  });
  try {
    // A new database gets what the users service would give it on its first start (the demo gym outside production), so it is not left half-made.
    if (db.fresh && config.seedDemo) {
      await usersSubgraph.seedDemo?.(db, log, systemClock);
      console.log(`New database: seeded the demo gym's accounts first, as the users service would (SEED_DEMO=never to skip).`);
    }
    const admin = await createAdmin(db, { email: values.email, password, name: values.name }, systemClock());
    console.log(`Admin ${admin.email} created (id ${admin.id}) in ${db.location}. Log in with it; it can approve trainers (approveTrainer).`);
  } catch (err) {
    if (err instanceof AdminRefused) fail(err.message);
    throw err;
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
