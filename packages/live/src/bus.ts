import type { LivePayloadOf } from './topics.js';

export interface LivePublisher {
  /** Publishes `payload` on broker topic `topic` (typed for the topics in `LiveTopics`). */
  publish<T extends string>(topic: T, payload: LivePayloadOf<T>): Promise<void>;
}

/**
 * Fan-out of live messages to whoever is subscribed now: no acknowledgement, no
 * redelivery, nothing kept for a subscriber that connects later.
 */
export interface LiveBus extends LivePublisher {
  /** Messages of one topic, for as long as the iterator is consumed; `return()` unsubscribes. */
  subscribe<T extends string>(topic: T): AsyncIterableIterator<LivePayloadOf<T>>;
  close(): Promise<void>;
}
