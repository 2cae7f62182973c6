import type { LiveBus } from './bus.js';
import { hubLiveBus } from './hub-bus.js';
import { createInProcessLiveBus } from './in-process-bus.js';
import { createRedisLiveBus } from './redis-bus.js';

/** The part of a service's config the live bus reads. */
export interface LiveBusConfig {
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
export function createLiveBus(config: LiveBusConfig): LiveBus {
  if (config.redisUrl) return createRedisLiveBus(config.redisUrl, config.eventsPrefix);
  const hub = hubLiveBus();
  if (hub) return hub;
  processLive ??= createInProcessLiveBus();
  return { ...processLive, close: async () => undefined };
}
