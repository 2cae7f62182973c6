import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';

// ioredis costs a service about 100 ms of start-up CPU; without REDIS_URL (npm start) it is never loaded.
const require = createRequire(import.meta.url);

export function newRedis(url: string, options: RedisOptions): Redis {
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  return new RedisClient(url, options);
}

