import type { Logger } from '@fitsync/service-kit';
import { Redis } from 'ioredis';

/**
 * Gateway replicas on several machines share the registered manifests through Redis, as
 * they share the supergraph: each client's manifest is a field of the hash
 * `<EVENTS_PREFIX>:trusted-documents` (field: the client, `web@1.4.0`; value: the manifest
 * JSON), and every registration is announced on `<key>:updated` so replicas reload at once.
 */
export const trustedDocumentsKey = (prefix: string) => `${prefix}:trusted-documents`;
const channelOf = (key: string) => `${key}:updated`;

/** Stores a client's manifest and tells every gateway (`operations:register` with REDIS_URL). */
export async function publishManifestToRedis(url: string, prefix: string, client: string, manifestJson: string): Promise<void> {
  const key = trustedDocumentsKey(prefix);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    await redis.multi().hset(key, client, manifestJson).publish(channelOf(key), client).exec();
  } finally {
    redis.disconnect();
  }
}

export interface RedisManifestsWatch {
  readonly key: string;
  /** Every client's manifest stored now, by client. */
  current(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Follows the hash: `changed` runs after every announcement and every reconnection (an announcement missed while away is not lost). */
export async function watchRedisManifests(url: string, prefix: string, log: Logger, changed: () => void): Promise<RedisManifestsWatch> {
  const key = trustedDocumentsKey(prefix);
  // Two connections: one in SUBSCRIBE mode cannot run HGETALL.
  const commands = new Redis(url, { lazyConnect: true });
  const subscriber = new Redis(url, { lazyConnect: true });
  commands.on('error', (err) => log.warn({ err }, 'trusted documents Redis connection'));
  subscriber.on('error', (err) => log.warn({ err }, 'trusted documents Redis subscription'));
  try {
    await commands.connect();
    await subscriber.connect();
    await subscriber.subscribe(channelOf(key));
  } catch (err) {
    commands.disconnect();
    subscriber.disconnect();
    throw err;
  }
  subscriber.on('message', () => changed());
  // Attached after the first connection: every later 'ready' is a reconnection.
  subscriber.on('ready', () => changed());
  return {
    key,
    current: () => commands.hgetall(key),
    async close() {
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
