// End to end: the real `npm start` (six processes), every service on port 0 (each picks a
// free port and tells npm start, which prints them), a new data folder and a supergraph
// composed into a temporary folder: nothing in the repository is written.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['gateway', 'users', 'training', 'schedule', 'progress', 'notifications'] as const;
type Service = (typeof SERVICES)[number];
/** Files npm start would compose into the repository if it were not given SUPERGRAPH_PATH. */
const TRACKED_OUTPUTS = ['supergraph.graphql', 'api-schema.graphql'].map((f) => join(ROOT, f));

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

const answers = (origin: string) =>
  fetch(`${origin}/health`, { signal: AbortSignal.timeout(1000) }).then(
    () => true,
    () => false,
  );

/** Whether this machine has an IPv6 loopback (a host property, read from its interfaces). */
const hasIpv6Loopback = Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.internal && a.family === 'IPv6' && a.address === '::1'));

interface Run {
  proc: ChildProcess;
  output: () => string;
  /** Set once the process has exited. */
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/** `npm start` with every port 0, as a developer runs it otherwise: embedded storage, in-process events. */
function npmStart(dir: string, extra: NodeJS.ProcessEnv): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: join(dir, 'data'), SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'), LOG_LEVEL: 'warn', ...extra };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'DB_SCHEMA', 'NODE_ENV', 'SEED_DEMO']) if (!(k in extra)) delete env[k];
  for (const s of SERVICES) {
    env[`${s.toUpperCase()}_PORT`] = '0';
    delete env[`${s.toUpperCase()}_URL`];
  }
  const proc = spawn(process.execPath, ['--import', 'tsx/esm', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.once('exit', (code, signal) => (exit = { code, signal }));
  return { proc, output: () => output, exited: () => exit };
}

/** Waits for the summary; fails at once if npm start exits first. */
async function untilReady(run: Run): Promise<void> {
  await vi.waitFor(
    () => {
      if (run.exited()) return; // reported below, without waiting out the timeout
      if (!run.output().includes('FitSync Graph is ready in')) throw new Error(`not ready after 120 s:\n${run.output()}`);
    },
    { timeout: 120_000, interval: 250 },
  );
  const exit = run.exited();
  if (exit) throw new Error(`npm start exited early with code ${exit.code}:\n${run.output()}`);
}

/** The origin of each service as the summary prints it (`  users  http://127.0.0.1:40123/graphql ...`). */
function summaryOrigins(output: string): Record<Service, string> {
  return Object.fromEntries(
    SERVICES.map((s) => {
      const m = output.match(new RegExp(`^\\s+${s}\\s+(http://\\S+?)/graphql\\s`, 'm'));
      expect(m, `the summary lists ${s}:\n${output}`).not.toBeNull();
      return [s, m![1]];
    }),
  ) as Record<Service, string>;
}

/** SIGINT, then npm start exits 0 having stopped every service. */
async function stopsCleanly(run: Run, children: number[], origins: string[]): Promise<void> {
  run.proc.kill('SIGINT');
  await vi.waitFor(() => expect(run.exited(), `npm start did not exit within 45 s after SIGINT:\n${run.output()}`).toBeDefined(), {
    timeout: 45_000,
    interval: 100,
  });
  expect(run.exited()).toEqual({ code: 0, signal: null });
  for (const pid of children) expect(alive(pid), `service process ${pid} still running`).toBe(false);
  for (const o of origins) expect(await answers(o), `something still answers on ${o}`).toBe(false);
  expect(run.output()).toContain('all services stopped');
}

async function kill(run: Run | undefined, children: number[]): Promise<void> {
  if (run && !run.exited()) run.proc.kill('SIGKILL');
  for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
}

describe('npm start', () => {
  let dir: string;
  let run: Run;
  let children: number[] = [];
  const trackedBefore = TRACKED_OUTPUTS.map((f) => statSync(f).mtimeMs);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitsync-start-'));
    // The supergraph npm start serves, composed from the sources as npm start would, but
    // here: composing into the repository would rewrite tracked files whose mtimes a fresh
    // clone leaves arbitrary.
    const result = compose(await loadSupergraphConfig(join(ROOT, 'supergraph.yaml')));
    if (!result.ok) throw new Error(`supergraph.yaml does not compose: ${JSON.stringify(result.problems)}`);
    await writeFile(join(dir, 'supergraph.graphql'), result.supergraphSdl);
    run = npmStart(dir, { HOST: '127.0.0.1' });
  });

  afterAll(async () => {
    await kill(run, children);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts every service, serves the demo login through the gateway, and stops cleanly on SIGINT', async () => {
    // Ready: the summary is printed, with the port each service picked; the gateway answers /ready.
    await untilReady(run);
    const output = run.output();
    const origins = summaryOrigins(output);
    for (const s of SERVICES) expect(origins[s]).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(new Set(Object.values(origins)).size).toBe(SERVICES.length);
    const gateway = origins.gateway;
    expect((await fetch(`${gateway}/ready`)).status).toBe(200);
    expect(output).toContain(`${gateway}/graphql`);
    expect(output).toContain(DEMO_LOGINS.client);
    // One folder per subgraph, and mail/ once the first email is written (the demo gym's reminders, soon after the start).
    expect(
      readdirSync(join(dir, 'data'))
        .filter((f) => f !== 'mail')
        .sort(),
    ).toEqual(SERVICES.filter((s) => s !== 'gateway').sort());
    expect(output).toContain(`written to files, one per email: ${join(dir, 'data')}/mail/*.eml`);

    children = servicePids(run.proc.pid!);
    if (existsSync('/proc')) expect(children).toHaveLength(SERVICES.length);

    const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
      const res = await fetch(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
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
    expect(me).toEqual({ data: { me: { name: demoClient.name } }, extensions: { cost: { estimated: 1, max: 2500 } } });

    // Subgraphs reach each other on the ports they picked (npm start told them): training
    // asks users who the client of a new program is, and answers that there is no such user,
    // not that users is unavailable.
    const trainer = await gql('mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', {
      email: DEMO_LOGINS.trainer,
      password: DEMO_PASSWORD,
    });
    const nobody = '00000000-0000-4000-8000-000000000000';
    const assigned = await gql(
      'mutation($i: AssignProgramInput!) { assignProgram(input: $i) { id } }',
      { i: { clientId: nobody, name: 'Port zero', startDate: '2030-01-07', durationWeeks: 4 } },
      trainer.data.login.token,
    );
    expect(assigned.errors).toEqual([
      expect.objectContaining({ message: `clientId: no user ${nobody}`, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);

    await stopsCleanly(run, children, Object.values(origins));
    // No tracked file was (re)written.
    expect(TRACKED_OUTPUTS.map((f) => statSync(f).mtimeMs)).toEqual(trackedBefore);
    console.log(output.match(/FitSync Graph is ready in [\d.]+s/)?.[0]);
  }, 180_000);
});

describe.runIf(hasIpv6Loopback)('npm start with HOST=::1', () => {
  let dir: string;
  let run: Run;
  let children: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitsync-start-v6-'));
    await writeFile(join(dir, 'supergraph.graphql'), readFileSync(join(ROOT, 'supergraph.graphql')));
    // Readiness and shutdown only: no demo gym to seed.
    run = npmStart(dir, { HOST: '::1', SEED_DEMO: 'never' });
  });

  afterAll(async () => {
    await kill(run, children);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('checks readiness on [::1], where the services listen, and stops cleanly on SIGINT', async () => {
    await untilReady(run);
    const origins = summaryOrigins(run.output());
    for (const s of SERVICES) expect(origins[s]).toMatch(/^http:\/\/\[::1\]:[1-9]\d*$/);
    // The gateway is ready only once it reached every subgraph, on [::1] too.
    expect((await fetch(`${origins.gateway}/ready`)).status).toBe(200);
    children = servicePids(run.proc.pid!);
    await stopsCleanly(run, children, Object.values(origins));
  }, 180_000);
});
