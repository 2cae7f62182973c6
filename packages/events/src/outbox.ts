import { fileURLToPath } from 'node:url';
import type { Channel, EventData } from './catalog.js';
import { createEnvelope, type EventEnvelope } from './envelope.js';

/** The outbox and inbox tables; every service database gets them before its own migrations. */
export const EVENTS_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** One SQL statement runner: a database or an open transaction (service-kit's `Queryable`). */
export interface SqlRunner {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/**
 * Writes an event into the outbox inside the caller's transaction: it is published
 * if and only if that transaction commits. Returns the envelope written.
 */
export async function writeEvent<C extends Channel>(
  tx: SqlRunner,
  channel: C,
  data: EventData<C>,
  /** `now`: the instant the envelope is stamped with (default the system clock's). */
  meta: { source: string; correlationId: string; now?: Date },
): Promise<EventEnvelope<C>> {
  const envelope = createEnvelope(channel, data, meta);
  await tx.query('INSERT INTO event_outbox (event_id, channel, envelope) VALUES ($1, $2, $3)', [envelope.event_id, channel, JSON.stringify(envelope)]);
  return envelope;
}

/**
 * What resolvers get as `ctx.events`: the service and the request's correlation id
 * are bound, so a resolver names only the transaction, the channel and the payload.
 */
export interface EventWriter {
  emit<C extends Channel>(tx: SqlRunner, channel: C, data: EventData<C>): Promise<EventEnvelope<C>>;
}

export interface EventWriterOptions {
  /** The service writing: the envelopes' `source`. */
  source: string;
  correlationId: string;
  /** The service's business clock: each envelope's `timestamp` (default the system clock). */
  now?: () => Date;
  onWritten?: (envelope: EventEnvelope) => void;
}

export function createEventWriter(opts: EventWriterOptions): EventWriter {
  const now = opts.now ?? (() => new Date());
  return {
    async emit(tx, channel, data) {
      const envelope = await writeEvent(tx, channel, data, { source: opts.source, correlationId: opts.correlationId, now: now() });
      opts.onWritten?.(envelope);
      return envelope;
    },
  };
}
