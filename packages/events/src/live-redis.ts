import { newRedis, newRedisPubSub } from './redis-lazy.js';
import type { LiveBus, LiveTopic, LiveTopics } from './live.js';

/**
 * Live messages across processes and replicas through Redis pub/sub: a publisher and a
 * subscriber connection (one in SUBSCRIBE mode cannot publish), channels named
 * `<prefix>:live:<topic>` so deployments sharing a Redis do not hear each other.
 */
export function createRedisLiveBus(redisUrl: string, prefix: string): LiveBus {
  const connect = () => {
    const r = newRedis(redisUrl, { maxRetriesPerRequest: null, connectionName: 'fitsync-live' });
    r.on('error', () => undefined); // ioredis reconnects by itself; pub/sub is best effort by design
    return r;
  };
  const publisher = connect();
  const subscriber = connect();
  const pubsub = newRedisPubSub(publisher, subscriber);
  const channel = (topic: LiveTopic) => `${prefix}:live:${topic}`;
  return {
    publish: (topic, payload) => pubsub.publish(channel(topic), payload),
    subscribe: <T extends LiveTopic>(topic: T) => pubsub.asyncIterableIterator(channel(topic)) as AsyncIterableIterator<LiveTopics[T]>,
    close: () => pubsub.close().then(() => undefined),
  };
}
