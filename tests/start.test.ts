// End to end: the real `npm start` (six processes), on free ports and a new data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['gateway', 'users', 'training', 'schedule', 'progress', 'notifications'] as const;

/** Distinct free ports: all listening at once on port 0, then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** The service processes a process started (their command runs a src/index.ts), from /proc (Linux); empty elsewhere. */
function servicePids(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('src/index.ts');
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
    () => true,
    () => false,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('npm start', () => {
  let dataDir: string;
  let ports: Record<(typeof SERVICES)[number], number>;
  let proc: ChildProcess;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let children: number[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fitsync-start-'));
    const free = await freePorts(SERVICES.length);
    ports = Object.fromEntries(SERVICES.map((s, i) => [s, free[i]])) as typeof ports;
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: join(dataDir, 'data'), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    // As a developer runs it: embedded storage, in-process events, the default environment.
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'DB_SCHEMA', 'SUPERGRAPH_PATH', 'NODE_ENV', 'SEED_DEMO']) delete env[k];
    for (const s of SERVICES) {
      env[`${s.toUpperCase()}_PORT`] = String(ports[s]);
      delete env[`${s.toUpperCase()}_URL`];
    }
    proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    exit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts every service, serves the demo login through the gateway, and stops cleanly on SIGINT', async () => {
    // Ready: the gateway answers /ready and the summary is printed.
    const deadline = Date.now() + 120_000;
    let exited: { code: number | null } | undefined;
    void exit.then((e) => (exited = e));
    for (;;) {
      if (exited) throw new Error(`npm start exited early with code ${exited.code}:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${ports.gateway}/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready && output.includes('FitSync Graph is ready in')) break;
      if (Date.now() > deadline) throw new Error(`not ready after 120 s:\n${output}`);
      await sleep(250);
    }
    expect(output).toContain(`http://localhost:${ports.gateway}/graphql`);
    for (const s of SERVICES) expect(output).toContain(`http://localhost:${ports[s]}/`);
    expect(output).toContain(DEMO_LOGINS.client);
    expect(readdirSync(join(dataDir, 'data')).sort()).toEqual(SERVICES.filter((s) => s !== 'gateway').sort());

    children = servicePids(proc.pid!);
    if (existsSync('/proc')) expect(children).toHaveLength(SERVICES.length);

    const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
      const res = await fetch(`http://127.0.0.1:${ports.gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data?: any; errors?: unknown[] };
    };
    const login = await gql('mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { name role } } }', {
      email: DEMO_LOGINS.client,
      password: DEMO_PASSWORD,
    });
    expect(login.errors).toBeUndefined();
    // Names and emails do not depend on the day the gym is generated for.
    const demoClient = demoGym('2027-01-31').users.find((u) => u.email === DEMO_LOGINS.client)!;
    expect(login.data.login.user).toEqual({ name: demoClient.name, role: 'CLIENT' });
    const me = await gql('{ me { name } }', {}, login.data.login.token);
    expect(me).toEqual({ data: { me: { name: demoClient.name } } });

    // Ctrl-C: every service stops, then npm start exits 0.
    proc.kill('SIGINT');
    const result = await Promise.race([exit, sleep(45_000).then(() => undefined)]);
    expect(result, `npm start did not exit within 45 s after SIGINT:\n${output}`).toEqual({ code: 0, signal: null });
    for (const pid of children) expect(alive(pid), `service process ${pid} still running`).toBe(false);
    for (const s of SERVICES) expect(await portOpen(ports[s]), `${s} still answers on ${ports[s]}`).toBe(false);
    expect(output).toContain('all services stopped');
    console.log(output.match(/FitSync Graph is ready in [\d.]+s/)?.[0]);
  }, 180_000);
});
