import { hubStreams } from './ipc-hub.js';
import { createMemoryStreams } from './streams-memory.js';
import { createRedisStreams } from './streams-redis.js';
import type { StreamBackend } from './streams.js';
import { createStreamTransport, type EventTransport } from './stream-transport.js';

/** Redis Streams under `<prefix>:`; the transport owns its connections. */
export function createRedisTransport(redisUrl: string, prefix: string, opts: { onError?: (err: Error) => void; maxLen?: number } = {}): EventTransport {
  return createStreamTransport(createRedisStreams(redisUrl, opts), { kind: 'redis', prefix, maxLen: opts.maxLen });
}

/** An in-memory bus; pass `streams` to share one between transports (tests). */
export function createInProcessTransport(prefix: string, streams: StreamBackend = createMemoryStreams()): EventTransport {
  return createStreamTransport(streams, { kind: 'memory', prefix, ownsBackend: false, maxLen: 10_000 });
}

/** The part of a service's config the event transport reads. */
export interface TransportConfig {
  redisUrl?: string;
  /** EVENTS_PREFIX: the per-deployment prefix of every stream and channel. */
  eventsPrefix: string;
}

let processStreams: StreamBackend | undefined;

/**
 * The event transport for this process: Redis Streams with REDIS_URL; under `npm start`
 * the supervisor's hub; otherwise one in-memory bus shared by every service in this
 * process (so a one-process test platform delivers between its subgraphs).
 */
export function createTransport(config: TransportConfig, opts: { onError?: (err: Error) => void } = {}): EventTransport {
  if (config.redisUrl) return createRedisTransport(config.redisUrl, config.eventsPrefix, opts);
  const hub = hubStreams();
  if (hub) return createStreamTransport(hub, { kind: 'hub', prefix: config.eventsPrefix, ownsBackend: false, maxLen: 10_000 });
  return createInProcessTransport(config.eventsPrefix, (processStreams ??= createMemoryStreams()));
}
