import { loadConfig, type ServiceName, type ServiceConfig, type SubgraphName } from './config.js';
import { shutdownTelemetry } from './telemetry.js';

/**
 * What a service tells the process that started it over Node IPC (when it has a channel,
 * as under `npm start`): where it listens, so that port 0 works; and, the other way,
 * where its peers listen once they all do (their ports were not known when it started).
 */
export type ServiceMessage =
  { fitsync: 'listening'; service: ServiceName; port: number; url: string } | { fitsync: 'subgraph-urls-applied'; service: ServiceName };
export type SupervisorMessage = { fitsync: 'subgraph-urls'; urls: Partial<Record<SubgraphName, string>> };

const tell = (msg: ServiceMessage) => {
  // A supervisor that is gone is no reason to fail: the callback swallows the error.
  if (process.send && process.connected) process.send(msg, undefined, {}, () => undefined);
};

/**
 * How long a stopping service may take to finish in-flight requests and close its
 * connections before the process exits anyway (deploy/kubernetes sets the pods'
 * terminationGracePeriodSeconds above it: tests/kubernetes.test.ts).
 */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Runs one service as its own process: reads the config once, starts, and on
 * SIGINT/SIGTERM closes cleanly (in-flight requests finish, connections close).
 */
export function runService(name: ServiceName, start: (config: ServiceConfig) => Promise<{ close(): Promise<void>; port?: number; url?: string }>) {
  const main = async () => {
    const config = loadConfig(name);
    if (process.send) {
      process.on('message', (msg: unknown) => {
        const m = msg as Partial<SupervisorMessage> | null;
        if (m?.fitsync !== 'subgraph-urls' || !m.urls) return;
        // Service clients read config.subgraphUrls on every call.
        Object.assign(config.subgraphUrls, m.urls);
        tell({ fitsync: 'subgraph-urls-applied', service: name });
      });
      // The channel must not keep a stopping service alive.
      (process.channel as unknown as { unref?(): void } | undefined)?.unref?.();
    }
    const running = await start(config);
    if (running.port !== undefined) tell({ fitsync: 'listening', service: name, port: running.port, url: running.url ?? '' });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
      running
        .close()
        // The spans of the last requests go out (within 2 s: an OTLP endpoint that is down does not hold the exit).
        .then(() => shutdownTelemetry())
        .then(
          () => {
            clearTimeout(force);
            process.exit(0);
          },
          (err) => {
            console.error(`${name}: error while stopping on ${signal}`, err);
            process.exit(1);
          },
        );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  };
  main().catch((err) => {
    console.error(`${name}: failed to start:`, err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
