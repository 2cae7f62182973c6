// A service as deployed: one entry point (`gateway/src/index.ts`, `subgraphs/<name>/src/index.ts`)
// in a node process of its own under tsx's loader, as the Dockerfile, compose and the manifests
// run it, configured from the environment alone. It listens on port 0 and reports the port the
// kernel chose over the IPC channel (`{ fitsync: 'listening', port }`): no port is picked first
// and bound later.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServiceMessage } from '@fitsync/service-kit';
import { TSX_LOADER } from '../../packages/service-kit/src/supervise.js';

/** The repository's root: every entry point is named relative to it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** tsx's ESM loader as a file URL, for `node --import`. */
export { TSX_LOADER };

export interface ServiceProcess {
  child: ChildProcess;
  /** The port it reported once it listened. */
  port: number;
  /** Settles when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it wrote to stdout and stderr so far, with `captureOutput` (else empty). */
  output(): string;
  /** Ends the process (SIGTERM, or `signal`) if it still runs, and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnServiceOptions {
  /** Keep stdout and stderr (for `output()`, and in the error if it exits before it listens) instead of dropping stdout and passing stderr through. */
  captureOutput?: boolean;
}

/**
 * Starts `node --import <tsx> <entry>` in the repository's root with exactly `env` (nothing of
 * this process's environment but what it passes), and resolves once the process reports the
 * port it listens on; rejects, with the process gone, if it exits first.
 */
export async function spawnService(entry: string, env: Record<string, string | undefined>, options: SpawnServiceOptions = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, entry], {
    cwd: ROOT,
    stdio: options.captureOutput ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'ignore', 'inherit', 'ipc'],
    env,
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
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
        Promise.reject(new Error(`${entry} exited (${signal ?? `code ${code}`}) before it listened${output ? `:\n${output}` : ''}`)),
      ),
    ]);
    return { child, port, exited, output: () => output, stop };
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
}
