import { loadConfig, type ServiceName, type ServiceConfig } from './config.js';

/**
 * Runs one service as its own process: reads the config once, starts, and on
 * SIGINT/SIGTERM closes cleanly (in-flight requests finish, connections close).
 */
export function runService(name: ServiceName, start: (config: ServiceConfig) => Promise<{ close(): Promise<void> }>) {
  const main = async () => {
    const config = loadConfig(name);
    const running = await start(config);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(() => process.exit(1), 10_000).unref();
      running.close().then(
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
