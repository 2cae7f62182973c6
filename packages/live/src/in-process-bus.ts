import { PubSub } from 'graphql-subscriptions';
import type { LiveBus } from './bus.js';
import type { LiveTopic, LiveTopics } from './topics.js';

/** One process only (`npm start` without REDIS_URL, tests). */
export function createInProcessLiveBus(): LiveBus {
  const pubsub = new PubSub<{ [T in LiveTopic]: LiveTopics[T] }>();
  return {
    publish: (topic, payload) => pubsub.publish(topic, payload),
    subscribe: (topic) => pubsub.asyncIterableIterator(topic) as AsyncIterableIterator<LiveTopics[typeof topic]>,
    close: async () => undefined,
  };
}
