// Without REDIS_URL nothing loads the Redis clients: a service started by `npm start` (or
// a test on the in-process bus) spends no start-up CPU on ioredis.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HUB_ENV } from '@fitsync/live';

const PROBE = fileURLToPath(new URL('./fixtures/redis-probe.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

async function probe(mode: 'import' | 'use-redis', specifiers: string[]): Promise<{ loaded: string[]; modules: number }> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env[HUB_ENV];
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', TSX, PROBE, mode, ...specifiers], { env, timeout: 60_000 });
  return JSON.parse(stdout) as { loaded: string[]; modules: number };
}

describe('Redis clients are loaded only when used', () => {
  it('importing @fitsync/events and @fitsync/live loads neither ioredis nor graphql-redis-subscriptions', async () => {
    const { loaded, modules } = await probe('import', ['@fitsync/events', '@fitsync/live']);
    expect(modules).toBeGreaterThan(0); // the probe does see CommonJS modules (zod, pino, graphql-subscriptions...)
    expect(loaded).toEqual([]);
  });

  // Positive controls: the probe would see them were they loaded.
  it('sees them when a module imports them statically', async () => {
    expect((await probe('import', ['ioredis', 'graphql-redis-subscriptions'])).loaded).toEqual(['ioredis', 'graphql-redis-subscriptions']);
  });

  it('sees them once a Redis transport and live bus are created', async () => {
    expect((await probe('use-redis', ['@fitsync/events', '@fitsync/live'])).loaded).toEqual(['ioredis', 'graphql-redis-subscriptions']);
  });
});
