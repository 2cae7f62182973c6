// The supervisor's side of the IPC messages of run.ts, for whatever starts services as child
// processes on port 0 (npm start, the bench): kept apart from run.ts, which loads telemetry.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { SubgraphName } from './config.js';
import type { ServiceMessage, SupervisorMessage } from './run.js';

/**
 * tsx's ESM loader as a file URL, for `node --import` (resolved from this file, so from any
 * working directory): how every service process is started outside an image, as the
 * Dockerfile, compose and the manifests start it inside one (`node --import tsx/esm`).
 */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/**
 * Tells one started service where its peers listen (their ports were not known when it
 * started), and resolves once it has taken them in. Rejects with what `gone` settles with (the
 * process ended first), or after `timeoutMs`.
 */
export function sendSubgraphUrls(
  child: ChildProcess,
  urls: Partial<Record<SubgraphName, string>>,
  opts: { name: string; timeoutMs: number; gone: Promise<Error> },
): Promise<void> {
  const msg: SupervisorMessage = { fitsync: 'subgraph-urls', urls };
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${opts.name} did not take in the subgraph URLs`)), Math.max(0, opts.timeoutMs));
    const onMessage = (m: unknown) => {
      if ((m as Partial<ServiceMessage> | null)?.fitsync === 'subgraph-urls-applied') done();
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      if (err) reject(err);
      else resolve();
    };
    child.on('message', onMessage);
    void opts.gone.then(done);
    child.send(msg, (err) => err && done(err));
  });
}
