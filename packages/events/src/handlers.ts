import type { Logger } from 'pino';
import type { Channel } from './catalog.js';
import type { EventEnvelope } from './envelope.js';
import type { LivePublisher } from '@fitsync/live';
import type { EventWriter, SqlRunner } from './outbox.js';

/** What a consuming service's handler receives besides the event. */
export interface HandlerContext {
  /**
   * The transaction the handler's changes belong to. The consumer runtime opens it,
   * records the event_id in `event_inbox` in it (a second delivery is skipped), and
   * acknowledges the event only after it commits.
   */
  tx: SqlRunner;
  /** Writes follow-up events into the outbox in `tx`, carrying the event's correlation id. */
  events: EventWriter;
  /** Live messages for GraphQL subscriptions, sent only once `tx` has committed. */
  live: LivePublisher;
  /** A child logger with `event_id`, `event` and `correlation_id`. */
  log: Logger;
}

export type EventHandler<C extends Channel> = (event: EventEnvelope<C>, ctx: HandlerContext) => Promise<void>;

/** The channels a service consumes and what it does with each. */
export type EventHandlers = { [C in Channel]?: EventHandler<C> };
