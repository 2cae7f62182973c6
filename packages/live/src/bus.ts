import type { LiveTopic, LiveTopics } from './topics.js';

export interface LivePublisher {
  publish<T extends LiveTopic>(topic: T, payload: LiveTopics[T]): Promise<void>;
}

/**
 * Fan-out of live messages to whoever is subscribed now: no acknowledgement, no
 * redelivery, nothing kept for a subscriber that connects later.
 */
export interface LiveBus extends LivePublisher {
  /** Messages of one topic, for as long as the iterator is consumed; `return()` unsubscribes. */
  subscribe<T extends LiveTopic>(topic: T): AsyncIterableIterator<LiveTopics[T]>;
  close(): Promise<void>;
}
