import { PubSub } from 'graphql-subscriptions';
import type { LiveBus } from './bus.js';
import type { LivePayloadOf } from './topics.js';

/** One process only (`npm start` without REDIS_URL, tests). */
export function createInProcessLiveBus(): LiveBus {
  const pubsub = new PubSub<Record<string, unknown>>();
  return {
    publish: (topic, payload) => pubsub.publish(topic, payload),
    subscribe: <T extends string>(topic: T) => pubsub.asyncIterableIterator(topic) as AsyncIterableIterator<LivePayloadOf<T>>,
    close: async () => undefined,
  };
}
