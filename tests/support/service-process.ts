// A service as deployed: one entry point (`gateway/src/index.ts`, `subgraphs/<name>/src/index.ts`)
// in a node process of its own under tsx's loader, as the Dockerfile, compose and the manifests
// run it, configured from the environment alone. It listens on port 0 and reports the port the
// kernel chose over the IPC channel (`{ fitsync: 'listening', port }`): no port is picked first
// and bound later.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ServiceMessage } from '@fitsync/service-kit';

/** The repository's root: every entry point is named relative to it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** tsx's ESM loader as a file URL, for `node --import` (resolved from here, so from any working directory). */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

export interface ServiceProcess {
  child: ChildProcess;
  /** The port it reported once it listened. */
  port: number;
  /** Settles when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process (SIGTERM, or `signal`) if it still runs, and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnServiceOptions {
  /** stdin, stdout and stderr (the IPC channel is added): stdout ignored, stderr inherited by default. */
  stdio?: ['ignore' | 'pipe', 'ignore' | 'pipe' | 'inherit', 'ignore' | 'pipe' | 'inherit'];
  /** Called with the process before it listens (to read piped output, say). */
  started?(child: ChildProcess): void;
  /** Added to the message of the error raised when the process exits before it listens. */
  describeExit?(): string;
}

/**
 * Starts `node --import <tsx> <entry>` in the repository's root with exactly `env` (nothing of
 * this process's environment but what it passes), and resolves once the process reports the
 * port it listens on; rejects, with the process gone, if it exits first.
 */
export async function spawnService(entry: string, env: Record<string, string | undefined>, options: SpawnServiceOptions = {}): Promise<ServiceProcess> {
  const [stdin, stdout, stderr] = options.stdio ?? ['ignore', 'ignore', 'inherit'];
  const child = spawn(process.execPath, ['--import', TSX_LOADER, entry], {
    cwd: ROOT,
    stdio: [stdin, stdout, stderr, 'ipc'],
    env,
  });
  options.started?.(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    const port = await Promise.race([
      new Promise<number>((resolve) => child.on('message', (m: ServiceMessage | null) => m?.fitsync === 'listening' && resolve(m.port))),
      exited.then(({ code, signal }) =>
        Promise.reject(
          new Error(`${entry} exited (${signal ?? `code ${code}`}) before it listened${options.describeExit ? `:\n${options.describeExit()}` : ''}`),
        ),
      ),
    ]);
    return { child, port, exited, stop };
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
}
