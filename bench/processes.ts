import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

/** One service of the benchmark, run as its own process like `npm start` does. */
export interface Proc {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Its last lines of output, shown when it fails. */
  recent: string[];
  stop(): Promise<void>;
}

/** The `--import` every bench process runs with (the sources are TypeScript ES modules). */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function spawnService(opts: {
  name: string;
  entry: string;
  port: number;
  path: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  nodeArgs?: string[];
  /** Open a Node IPC channel (the `npm start` event hub talks over it). */
  ipc?: boolean;
  /** Sees every line the process prints (stdout and stderr). */
  onLine?: (line: string) => void;
}): Proc {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', TSX_LOADER, opts.entry], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  const keep = (line: string) => {
    opts.onLine?.(line);
    recent.push(line);
    if (recent.length > 40) recent.shift();
    // Warnings (MaxListenersExceededWarning, ...) are what a soak is looking for: always shown.
    if (process.env.BENCH_VERBOSE || line.includes('Warning:')) console.log(`[${opts.name}] ${line}`);
  };
  createInterface({ input: child.stdout! }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    name: opts.name,
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}${opts.path}`,
    child,
    exited,
    recent,
    async stop() {
      if (done) return;
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` answers true; fails as soon as the process dies or after `timeoutMs`. */
export async function waitUntil(proc: Proc, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (code !== undefined) throw new Error(`${proc.name} exited with code ${code}:\n${proc.recent.slice(-20).join('\n')}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} was not ready after ${timeoutMs / 1000} s:\n${proc.recent.slice(-20).join('\n')}`);
    await sleep(200);
  }
}

/** A subgraph (or our gateway) is ready when `/ready` answers 200. */
export const readyProbe = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) })).ok;

/** Any gateway is ready when it answers `{ __typename }`. */
export const graphqlProbe = (url: string) => async () => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query":"{ __typename }"}',
    signal: AbortSignal.timeout(2000),
  });
  return res.ok && ((await res.json()) as { data?: { __typename?: string } }).data?.__typename === 'Query';
};
