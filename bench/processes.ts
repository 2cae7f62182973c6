import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compose, formatProblems, loadSupergraphConfig } from '@fitsync/composition';
import { SUBGRAPHS, urlVariable, type SubgraphName } from '../packages/service-kit/src/config.js';
import type { ServiceMessage } from '../packages/service-kit/src/run.js';
import { TSX_LOADER, sendSubgraphUrls } from '../packages/service-kit/src/supervise.js';

/**
 * One service of the benchmark, run as its own process like `npm start` does: it listens on
 * port 0 and reports the port the kernel chose over its IPC channel (as every service and the
 * peer gateways in bench/gateways do), so no port is picked first and bound later.
 */
export interface Proc {
  name: string;
  /** The port it listens on: 0 until `listening` settles. */
  port: number;
  /** Its GraphQL endpoint: empty until `listening` settles. */
  url: string;
  /** Settles with the port once the process reports it; rejects if it exits first. */
  listening: Promise<number>;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Its last lines of output, shown when it fails. */
  recent: string[];
  stop(): Promise<void>;
}

/** The `--import` every bench process runs with (the sources are TypeScript ES modules). */
export { TSX_LOADER };

export function spawnService(opts: {
  name: string;
  entry: string;
  /** The variable its port is read from (`USERS_PORT`, `GATEWAY_PORT`): set to 0. */
  portVariable: string;
  path: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  nodeArgs?: string[];
  /** Sees every line the process prints (stdout and stderr). */
  onLine?: (line: string) => void;
}): Proc {
  // The IPC channel carries the port it reports, the peers' URLs (shareSubgraphUrls) and, with
  // the npm start hub's variable in `env`, the events and live messages.
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', TSX_LOADER, opts.entry], {
    cwd: opts.cwd,
    env: { ...opts.env, [opts.portVariable]: '0' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
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
  const proc: Proc = {
    name: opts.name,
    port: 0,
    url: '',
    listening: new Promise<number>((resolve, reject) => {
      const onMessage = (m: Partial<ServiceMessage> | null) => {
        if (m?.fitsync !== 'listening' || typeof m.port !== 'number') return;
        child.off('message', onMessage);
        proc.port = m.port;
        proc.url = `http://127.0.0.1:${m.port}${opts.path}`;
        resolve(m.port);
      };
      child.on('message', onMessage);
      void exited.then((code) => reject(new Error(`${opts.name} exited with code ${code} before it listened:\n${recent.slice(-20).join('\n')}`)));
    }),
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
  // Whoever awaits it sees the rejection; a process stopped before anyone did is no failure.
  proc.listening.catch(() => undefined);
  return proc;
}

/**
 * The five subgraph processes just started (in SUBGRAPHS order), joined up: once each listens,
 * each is told where its peers are (the message `npm start` sends) and then awaited until
 * ready. Returns where they are, and the `<NAME>_URL` variables that tell a gateway the same.
 */
export async function joinSubgraphs(procs: readonly Proc[], timeoutMs = 30_000) {
  await Promise.all(procs.map((p) => p.listening));
  const urls = Object.fromEntries(SUBGRAPHS.map((s, i) => [s, procs[i].url])) as Record<SubgraphName, string>;
  const ports = Object.fromEntries(SUBGRAPHS.map((s, i) => [s, procs[i].port])) as Record<SubgraphName, number>;
  await Promise.all(
    procs.map((proc) =>
      sendSubgraphUrls(proc.child, urls, {
        name: proc.name,
        timeoutMs,
        gone: proc.exited.then((code) => new Error(`${proc.name} exited with code ${code}:\n${proc.recent.slice(-20).join('\n')}`)),
      }),
    ),
  );
  await Promise.all(procs.map((p) => waitUntil(p, readyProbe(p))));
  const urlEnv: NodeJS.ProcessEnv = Object.fromEntries(SUBGRAPHS.map((s) => [urlVariable(s), urls[s]]));
  return { urls, ports, urlEnv };
}

/** Composes `root`'s supergraph.yaml with its routing URLs at `urls` (the peers route by them alone), writes it to `path`, and returns it. */
export async function writeSupergraph(root: string, urls: Record<SubgraphName, string>, path: string): Promise<string> {
  const sources = await loadSupergraphConfig(join(root, 'supergraph.yaml'));
  const composed = compose(sources.map((s) => ({ ...s, url: urls[s.name as SubgraphName] ?? s.url })));
  if (!composed.ok) throw new Error(`supergraph.yaml does not compose:\n${formatProblems(composed.problems)}`);
  await writeFile(path, composed.supergraphSdl);
  return composed.supergraphSdl;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for the process to listen, then polls until `probe` answers true; fails as soon as the process dies or after `timeoutMs`. */
export async function waitUntil(proc: Proc, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    proc.listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${proc.name} did not listen within ${timeoutMs / 1000} s:\n${proc.recent.slice(-20).join('\n')}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  for (;;) {
    if (code !== undefined) throw new Error(`${proc.name} exited with code ${code}:\n${proc.recent.slice(-20).join('\n')}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} was not ready after ${timeoutMs / 1000} s:\n${proc.recent.slice(-20).join('\n')}`);
    await sleep(200);
  }
}

/** A subgraph (or our gateway) is ready when `/ready` answers 200. */
const readyProbe = (proc: Proc) => async () => (await fetch(`http://127.0.0.1:${proc.port}/ready`, { signal: AbortSignal.timeout(2000) })).ok;

/** Any gateway is ready when it answers `{ __typename }`. */
export const graphqlProbe = (proc: Proc) => async () => {
  const res = await fetch(proc.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query":"{ __typename }"}',
    signal: AbortSignal.timeout(2000),
  });
  return res.ok && ((await res.json()) as { data?: { __typename?: string } }).data?.__typename === 'Query';
};
