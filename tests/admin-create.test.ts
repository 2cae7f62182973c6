// npm run admin:create: the first admin of a deployment, in production too (where nothing is
// seeded and admins cannot register), on the users subgraph's own database.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, dropPostgresSchema, openDatabase, type Database, type RunningSubgraph } from '@fitsync/service-kit';
import { callSubgraph, storageBackends, testClock, testConfig, uniqueSchemaPrefix } from '@fitsync/service-kit/testing';
import { startUsers, usersSubgraph } from '@fitsync/users';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { clock } = testClock();
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'admin-create-test-jwt-secret-0123456789',
  SERVICE_SECRET: 'admin-create-test-service-secret-0123456789',
  LOG_LEVEL: 'warn',
};

/** Runs the command as `npm run admin:create -- ...` does, with the given environment and stdin. */
function adminCreate(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, failed) => {
    // Nothing of this process's own database or secrets leaks in: only what the test passes.
    const { ADMIN_PASSWORD: _p, DATABASE_URL: _d, DB_SCHEMA: _s, DATA_DIR: _dir, SEED_DEMO: _seed, NODE_ENV: _env, ...parent } = process.env;
    const proc = spawn(process.execPath, ['--import', 'tsx/esm', 'scripts/admin-create.ts', ...args], { cwd: ROOT, env: { ...parent, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', failed);
    proc.on('close', (code) => done({ code, stdout, stderr }));
    proc.stdin.end(stdin);
  });
}

describe.each(storageBackends())('npm run admin:create on %s', (backend) => {
  let dataDir: string;
  // Postgres: a schema of this test's own, dropped afterwards.
  const schema = `${uniqueSchemaPrefix()}_users`;
  const databaseUrl = backend === 'postgres' ? process.env.DATABASE_URL! : undefined;
  let db: Database | undefined;
  let users: RunningSubgraph | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fitsync-admin-'));
  });
  afterAll(async () => {
    await users?.close();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
    if (databaseUrl) await dropPostgresSchema(databaseUrl, schema);
  });

  it('creates the first admin of a production database from a piped password, refuses a taken email and a short password, and the admin can log in', async () => {
    const env: Record<string, string> = { ...PRODUCTION, DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl, DB_SCHEMA: schema } : {}) };
    const created = await adminCreate(['--email', 'Ops@Example.test', '--name', 'Ada Ops'], env, 'a long enough secret\n');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Admin ops@example\.test created \(id [0-9a-f-]{36}\)/);

    const taken = await adminCreate(['--email', 'ops@example.test'], { ...env, ADMIN_PASSWORD: 'another long secret' });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already exists; nothing was changed/);
    const short = await adminCreate(['--email', 'second@example.test'], { ...env, ADMIN_PASSWORD: 'short' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password: must have at least 8 characters/);
    const noEmail = await adminCreate([], { ...env, ADMIN_PASSWORD: 'a long enough secret' });
    expect(noEmail.code).toBe(1);
    expect(noEmail.stderr).toMatch(/--email is required/);

    // The users subgraph's own database: one account (production seeds nothing), the admin.
    db = await openDatabase({
      service: 'users',
      migrationsDir: usersSubgraph.migrationsDir,
      log: createLogger('test', 'silent'),
      databaseUrl,
      schema,
      dataDir: join(dataDir, 'users'),
    });
    expect(await db.query('SELECT email, name, role FROM users')).toEqual([{ email: 'ops@example.test', name: 'Ada Ops', role: 'ADMIN' }]);

    // And it is an admin the service lets in, with the password from stdin.
    users = await startUsers(testConfig('users'), { db, clock });
    const login = await callSubgraph(users.url, 'mutation { login(email: "ops@example.test", password: "a long enough secret") { token user { role } } }');
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.user).toEqual({ role: 'ADMIN' });
    const approve = await callSubgraph(
      users.url,
      'mutation { approveTrainer(id: "00000000-0000-4000-8000-000000000000") { id } }',
      {},
      { token: login.body.data?.login.token },
    );
    expect(approve.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  }, 120_000);
});
