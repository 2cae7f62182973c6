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
  /**
   * Every client's manifest stored now, by client; while Redis is unreachable, what it held
   * when last read (a Redis outage must not drop registered documents from a running gateway).
   */
  current(): Promise<Record<string, string>>;
  /** Resolves true once the connection is up, false after `ms` without it. */
  connected(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Follows the hash: `changed` runs after every announcement and every (re)connection, so an
 * announcement missed while away is not lost. Both connections reconnect on their own with
 * backoff; a gateway starts while Redis is away and catches up when it answers.
 */
export function watchRedisManifests(url: string, prefix: string, log: Logger, changed: () => void): RedisManifestsWatch {
  const key = trustedDocumentsKey(prefix);
  const retryStrategy = (attempt: number) => Math.min(50 * 2 ** attempt, 2_000);
  // Two connections: one in SUBSCRIBE mode cannot run HGETALL. Reads fail at once while
  // disconnected (no offline queue) and the last known manifests stand in.
  const commands = new Redis(url, { connectionName: `${key}:read`, enableOfflineQueue: false, retryStrategy });
  // No ready check: its INFO is refused on a connection that queued a SUBSCRIBE (see @fitsync/live's Redis bus).
  const subscriber = new Redis(url, { connectionName: `${key}:sub`, enableReadyCheck: false, maxRetriesPerRequest: null, retryStrategy });
  let warned = false;
  commands.on('error', (err) => {
    if (!warned) log.warn({ err, key }, 'trusted documents: Redis unreachable; serving the manifests last read until it answers');
    warned = true;
  });
  subscriber.on('error', () => undefined); // reported once above; the retry is the handling
  commands.on('ready', () => {
    warned = false;
    changed();
  });
  subscriber.on('ready', () => changed());
  subscriber.on('message', () => changed());
  // Queued until connected; ioredis subscribes again after every reconnection.
  subscriber.subscribe(channelOf(key)).catch((err: unknown) => log.warn({ err, key }, 'trusted documents: cannot subscribe to Redis announcements'));
  let known: Record<string, string> = {};
  return {
    key,
    async current() {
      if (commands.status !== 'ready') return known;
      try {
        known = await commands.hgetall(key);
      } catch (err) {
        log.warn({ err, key }, 'trusted documents: cannot read the manifests from Redis; keeping those last read');
      }
      return known;
    },
    connected: (ms) =>
      commands.status === 'ready'
        ? Promise.resolve(true)
        : new Promise((done) => {
            const timer = setTimeout(() => done(false), ms);
            commands.once('ready', () => {
              clearTimeout(timer);
              done(true);
            });
          }),
    async close() {
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
