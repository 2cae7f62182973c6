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
    /** When the change committed (ISO 8601); the time of delivery when absent. */
    at?: string;
  };
  achievementEarned: { achievement_id: string; client_id: string };
}
export type LiveTopic = keyof LiveTopics;

/** Every topic, in the order the gateway subscribes to them. */
export const LIVE_TOPICS: readonly LiveTopic[] = ['notificationAdded', 'unreadNotificationCountChanged', 'bookingChanged', 'achievementEarned'];

/**
 * The users a message is for: the gateway hands it only to their subscriptions (the
 * subgraph that resolves it checks access again).
 */
export function liveRecipients<T extends LiveTopic>(topic: T, payload: LiveTopics[T]): string[] {
  const p = payload;
  switch (topic) {
    case 'notificationAdded':
      return [(p as LiveTopics['notificationAdded']).recipient_id];
    case 'unreadNotificationCountChanged':
      return [(p as LiveTopics['unreadNotificationCountChanged']).user_id];
    case 'bookingChanged': {
      const b = p as LiveTopics['bookingChanged'];
      return b.client_id === b.trainer_id ? [b.client_id] : [b.client_id, b.trainer_id];
    }
    case 'achievementEarned':
      return [(p as LiveTopics['achievementEarned']).client_id];
    default:
      return [];
  }
}

/**
 * The extension of a subgraph request that carries the live message a subscription
 * field resolves (the gateway sends it with the subscription's primary fetch).
 */
export const LIVE_MESSAGE_EXTENSION = 'fitsyncLiveMessage';
export interface LiveMessage<T extends LiveTopic = LiveTopic> {
  topic: T;
  payload: LiveTopics[T];
}
