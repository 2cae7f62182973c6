import { PubSub } from 'graphql-subscriptions';

/**
 * Messages subgraphs publish for GraphQL subscriptions, by topic. They carry ids and
 * the user ids that decide who may receive them; the gateway resolves the rest of a
 * client's selection through the graph. Unlike domain events these are fire-and-forget
 * fan-out to whoever is connected now (Redis pub/sub across replicas).
 */
export interface LiveTopics {
  notificationAdded: { notification_id: string; recipient_id: string };
  unreadNotificationCountChanged: { user_id: string; count: number };
  bookingChanged: {
    event_id: string;
    change: 'CREATED' | 'CANCELLED' | 'RESCHEDULED' | 'COMPLETED';
    booking_id: string;
    client_id: string;
    trainer_id: string;
  };
  achievementEarned: { achievement_id: string; client_id: string };
}
export type LiveTopic = keyof LiveTopics;

export interface LivePublisher {
  publish<T extends LiveTopic>(topic: T, payload: LiveTopics[T]): Promise<void>;
}

export interface LiveBus extends LivePublisher {
  /** Messages of one topic, for as long as the iterator is consumed; `return()` unsubscribes. */
  subscribe<T extends LiveTopic>(topic: T): AsyncIterableIterator<LiveTopics[T]>;
  close(): Promise<void>;
}

/** One process only (`npm start` without REDIS_URL, tests). */
export function createInProcessLiveBus(): LiveBus {
  const pubsub = new PubSub<{ [T in LiveTopic]: LiveTopics[T] }>();
  return {
    publish: (topic, payload) => pubsub.publish(topic, payload),
    subscribe: (topic) => pubsub.asyncIterableIterator(topic) as AsyncIterableIterator<LiveTopics[typeof topic]>,
    close: async () => undefined,
  };
}
