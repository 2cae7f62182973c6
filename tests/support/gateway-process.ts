// The gateway as deployed: `gateway/src/index.ts` in a process of its own, configured from the
// environment alone, in front of a test platform's subgraphs. For tests about what only a
// real process shows (signals, exit codes, a second replica sharing Redis).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compose } from '@fitsync/composition';
import { urlVariable } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import { expect, vi } from 'vitest';
import type { Platform } from './platform.js';
import { spawnService, type ServiceProcess } from './service-process.js';

export interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  /** Settles when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process (SIGTERM, or `signal`) if it still runs, waits for it, and removes its scratch folder. */
  close(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a gateway process on port 0 over `platform`'s subgraphs (their URLs as `<NAME>_URL`,
 * the supergraph they compose written to a scratch folder), with the test secrets; `env` adds
 * or overrides variables. Resolves once it listens and `/ready` answers 200.
 */
export async function spawnGateway(platform: Platform, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const composed = compose(platform.sources);
  if (!composed.ok) throw new Error('the platform sources do not compose');
  const scratch = await mkdtemp(join(tmpdir(), 'fitsync-gateway-'));
  let service: ServiceProcess | undefined;
  try {
    await writeFile(join(scratch, 'supergraph.graphql'), composed.supergraphSdl);
    service = await spawnService('gateway/src/index.ts', {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      SUPERGRAPH_PATH: join(scratch, 'supergraph.graphql'),
      ...Object.fromEntries(Object.entries(platform.subgraphs).map(([name, s]) => [urlVariable(name), s.url])),
      EVENTS_PREFIX: platform.eventsPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      LOG_LEVEL: 'warn',
      APOLLO_TELEMETRY_DISABLED: 'true',
      ...env,
    });
    const url = `http://127.0.0.1:${service.port}/graphql`;
    await vi.waitFor(async () => expect((await fetch(new URL('/ready', url))).status).toBe(200), { timeout: 30_000, interval: 200 });
    const started = service;
    const close = async (signal: NodeJS.Signals = 'SIGTERM') => {
      await started.stop(signal);
      await rm(scratch, { recursive: true, force: true });
    };
    return { child: started.child, url, exited: started.exited, close };
  } catch (err) {
    await service?.stop('SIGKILL');
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}
