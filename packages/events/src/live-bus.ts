import { hubClient } from './ipc-hub.js';
import { createInProcessLiveBus, type LiveBus } from './live.js';
import { createRedisLiveBus } from './live-redis.js';

/** The part of a service's config the event and live buses read. */
export interface BusConfig {
  redisUrl?: string;
  /** EVENTS_PREFIX: the per-deployment prefix of every stream and channel. */
  eventsPrefix: string;
}

let processLive: LiveBus | undefined;

/**
 * The live bus for this process: Redis pub/sub with REDIS_URL; under `npm start` the
 * supervisor's hub; otherwise one bus shared by everything in this process (a test
 * platform running every subgraph and the gateway in one process). Closing a shared
 * bus does nothing; closing a Redis one closes its connections.
 */
export function createLiveBus(config: BusConfig): LiveBus {
  if (config.redisUrl) return createRedisLiveBus(config.redisUrl, config.eventsPrefix);
  const hub = hubClient();
  if (hub) return hub.live;
  processLive ??= createInProcessLiveBus();
  return { ...processLive, close: async () => undefined };
}
