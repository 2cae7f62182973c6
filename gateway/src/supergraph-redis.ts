import { supergraphHash } from '@fitsync/composition';
import type { Logger } from '@fitsync/service-kit';
import { Redis } from 'ioredis';

/**
 * Several gateway replicas share one supergraph through Redis: the SDL lives at
 * SUPERGRAPH_REDIS_KEY, and every change is announced on `<key>:updated` (the message
 * is the new hash) so replicas reload at once instead of polling.
 */
export const supergraphChannel = (key: string) => `${key}:updated`;

/** Stores a supergraph at `key` and tells every watching gateway (`schema:publish`, `schema:rollback`). */
export async function publishSupergraphToRedis(url: string, key: string, sdl: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    await redis.multi().set(key, sdl).publish(supergraphChannel(key), supergraphHash(sdl)).exec();
  } finally {
    redis.disconnect();
  }
}

export interface RedisSupergraphWatch {
  /** The SDL stored at the key now, or null when nothing was published there yet. */
  current(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Follows the key: `onSdl` gets its value after every announcement, and after every
 * reconnection (an announcement sent while disconnected is not lost).
 */
export async function watchRedisSupergraph(url: string, key: string, log: Logger, onSdl: (sdl: string) => void): Promise<RedisSupergraphWatch> {
  const commands = new Redis(url, { lazyConnect: true });
  const subscriber = new Redis(url, { lazyConnect: true });
  const current = () => commands.get(key);
  const fetchAndHand = () =>
    current().then(
      (sdl) => sdl !== null && onSdl(sdl),
      (err: unknown) => log.warn({ err, key }, 'cannot read the supergraph from Redis'),
    );
  commands.on('error', (err) => log.warn({ err }, 'supergraph Redis connection'));
  subscriber.on('error', (err) => log.warn({ err }, 'supergraph Redis subscription'));
  await commands.connect();
  await subscriber.connect();
  await subscriber.subscribe(supergraphChannel(key));
  subscriber.on('message', () => void fetchAndHand());
  // Attached after the first connection: every later 'ready' is a reconnection.
  subscriber.on('ready', () => void fetchAndHand());
  return {
    current,
    async close() {
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
