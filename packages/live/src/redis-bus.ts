import { createRequire } from 'node:module';
import type { RedisOptions } from 'ioredis';
import type { LiveBus } from './bus.js';
import type { LivePayloadOf } from './topics.js';

// Loaded on first use only: ioredis costs a service about 100 ms of start-up CPU, and
// without REDIS_URL (npm start, most tests) nothing needs it (redis-loading.test.ts).
const require = createRequire(import.meta.url);

/**
 * The live bus across processes: Redis pub/sub on channels `<prefix>:live:<topic>`, so
 * every gateway replica hears what any subgraph replica publishes, and two deployments
 * sharing one Redis never hear each other.
 *
 * Two connections, because one in SUBSCRIBE mode cannot publish. Both reconnect on
 * their own with backoff when Redis goes away; ioredis re-issues the SUBSCRIBEs on the
 * new connection, so iterators handed out before the outage carry on without their
 * consumers doing anything. Messages published while Redis is unreachable are lost
 * (live messages are fire-and-forget; durable delivery is the domain events' job).
 * The connections are named `<prefix>:live:pub` and `<prefix>:live:sub` (CLIENT LIST).
 */
/** The longest a live message's publish may take before it is given up (live messages are fire-and-forget). */
const PUBLISH_TIMEOUT_MS = 5_000;

export function createRedisLiveBus(redisUrl: string, prefix: string): LiveBus {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const { RedisPubSub } = require('graphql-redis-subscriptions') as typeof import('graphql-redis-subscriptions');
  const channelPrefix = `${prefix}:live:`;
  const options = (role: 'pub' | 'sub'): RedisOptions => ({
    connectionName: `${channelPrefix}${role}`,
    // Commands wait for the reconnect instead of failing after 20 attempts.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    lazyConnect: false,
    // The ready check sends INFO, which a connection that already queued a SUBSCRIBE refuses
    // ("only subscriber commands may be used"): the subscriber would die at start-up or on a
    // reconnect, and no message would arrive. It only ever subscribes, so it needs no check.
    enableReadyCheck: role === 'pub',
  });
  // A publish never waits on a Redis that is away: once the publisher has been ready, a publish
  // while it is not fails at once, and one in flight when Redis died fails after
  // PUBLISH_TIMEOUT_MS (ioredis would otherwise keep it until a connection is ready again, and
  // a caller awaiting it, such as an event handler, with it). Before the first connection a
  // publish waits for it as before (start-up).
  const publisher = new Redis(redisUrl, { ...options('pub'), commandTimeout: PUBLISH_TIMEOUT_MS, autoResendUnfulfilledCommands: false });
  const subscriber = new Redis(redisUrl, options('sub'));
  let connectedOnce = false;
  publisher.on('ready', () => (connectedOnce = true));
  // ioredis logs unhandled 'error' events to stderr on every failed reconnect; the retry is the handling.
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  // graphql-redis-subscriptions sends UNSUBSCRIBE and PUNSUBSCRIBE when a topic's last iterator
  // returns and never awaits them: one failed by a connection that is closing (the bus closed
  // right after the gateway's streams, as on SIGTERM) or lost was an unhandled rejection, which
  // takes a Node process down. Nothing needs their answer: the failure is dropped here.
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[method].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<typeof method, (...args: unknown[]) => Promise<unknown>>)[method] = (...args) => {
      const sent = send(...args);
      sent.catch(() => undefined);
      return sent;
    };
  }
  // graphql-redis-subscriptions records a new subscription in the SUBSCRIBE's callback, which
  // runs after the read that carried the confirmation is parsed; a message parsed in that same
  // read (a loaded process reads both at once) found no subscriber and was dropped. Messages are
  // handed on from the next turn of the event loop instead, after those callbacks, in order.
  const emit = subscriber.emit.bind(subscriber);
  subscriber.emit = (event: string | symbol, ...args: unknown[]) => {
    if (event !== 'message' && event !== 'pmessage') return emit(event, ...args);
    setImmediate(() => emit(event, ...args));
    return subscriber.listenerCount(event) > 0;
  };
  const pubsub = new RedisPubSub({ publisher, subscriber });
  const channel = (topic: string) => `${channelPrefix}${topic}`;
  let closed = false;

  return {
    publish: async (topic, payload) => {
      if (closed) throw new Error('live bus is closed');
      if (connectedOnce && publisher.status !== 'ready') throw new Error('live bus: Redis is unavailable, message dropped');
      await pubsub.publish(channel(topic), payload);
    },
    subscribe: <T extends string>(topic: T) => pubsub.asyncIterableIterator<LivePayloadOf<T>>(channel(topic)),
    async close() {
      if (closed) return;
      closed = true;
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
