import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger per process, carrying the service name on every line; `level` is the config's `logLevel` (LOG_LEVEL). */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: ['password', '*.password', 'input.password', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}
