/**
 * Messages subgraphs publish for GraphQL subscriptions, by broker topic. A topic is any
 * name: the Subscription field it feeds, and the payload fields naming who receives a
 * message, are declared in the owning subgraph's schema with `@liveTopic` (see
 * `@fitsync/composition`'s live-topics), and the gateway subscribes to the topics the
 * supergraph declares. Messages carry ids and user ids; the gateway resolves the rest of a
 * client's selection through the graph. Unlike domain events these are fire-and-forget
 * fan-out to whoever is connected now (Redis pub/sub across replicas).
 */
export type LivePayload = Record<string, unknown>;

/**
 * The payloads of FitSync's own topics, so that their publishers and resolvers are
 * type-checked. A topic not listed here carries any `LivePayload`; the gateway needs
 * nothing from this list.
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

/** The payload of `topic`: its `LiveTopics` entry, else any object. */
export type LivePayloadOf<T extends string> = T extends keyof LiveTopics ? LiveTopics[T] : LivePayload;

/**
 * The extension of a subgraph request that carries the live message a subscription
 * field resolves (the gateway sends it with the subscription's primary fetch).
 */
export const LIVE_MESSAGE_EXTENSION = 'fitsyncLiveMessage';
export interface LiveMessage<T extends string = string> {
  topic: T;
  payload: LivePayloadOf<T>;
}

/**
 * The header of a live batch: the primary fetches of several live messages (each for its own
 * caller) in one request, a JSON array of `LiveBatchEntry` POSTed to the subgraph's GraphQL
 * path with the gateway's service credential. The answer is a JSON array of GraphQL results,
 * one per entry, in order. Each entry is resolved as its own request would be: its caller's
 * token verified by the subgraph, its own context, its field's access checks.
 */
export const LIVE_BATCH_HEADER = 'x-fitsync-live-batch';
/** The most entries a subgraph resolves in one live batch (the gateway sends at most this many). */
export const LIVE_BATCH_MAX = 64;
export interface LiveBatchEntry {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions: { [LIVE_MESSAGE_EXTENSION]: LiveMessage };
  /** The caller's `Authorization` header (`Bearer ...`), as its own request would carry it. */
  authorization?: string;
  correlationId?: string;
}
