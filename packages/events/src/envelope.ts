import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_CATALOG, isChannel, type Channel, type EventData } from './catalog.js';
import { currentTraceparent } from './tracing.js';

/** What travels between services: `{ event_id, event, timestamp, correlation_id, source, data }`. */
export interface EventEnvelope<C extends Channel = Channel> {
  event_id: string;
  /** The channel name. */
  event: C;
  /** ISO 8601, when the change was committed (written). */
  timestamp: string;
  /** The correlation id of the request (or job) that caused the event. */
  correlation_id: string;
  /** The service that published it. */
  source: string;
  data: EventData<C>;
  /**
   * W3C trace context of the request (or handler) that wrote the event, when tracing is on:
   * the relay's publish joins that trace, and consumers link their spans to it.
   */
  traceparent?: string;
}

/** Any channel's envelope, narrowed by `event`. */
export type AnyEventEnvelope = { [C in Channel]: EventEnvelope<C> }[Channel];

/** An envelope or payload that does not match the catalog; consumers dead-letter these. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

const envelopeShape = z.object({
  event_id: z.uuid(),
  event: z.string(),
  timestamp: z.iso.datetime({ offset: true }),
  correlation_id: z.string().min(1),
  source: z.string().min(1),
  data: z.unknown(),
  // Tracing metadata: one that is malformed is dropped, never a reason to refuse the event.
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional()
    .catch(undefined),
});

const describe = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** Checks a payload against its channel's schema and returns it parsed (unknown keys dropped). */
export function parseEventData<C extends Channel>(channel: C, data: unknown): EventData<C> {
  const parsed = EVENT_CATALOG[channel].data.safeParse(data);
  if (!parsed.success) throw new InvalidEventError(`invalid ${channel} payload: ${describe(parsed.error)}`);
  return parsed.data as EventData<C>;
}

/** Validates anything read off a stream: JSON text or an object. */
export function parseEnvelope(raw: unknown): AnyEventEnvelope {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidEventError('event is not JSON');
    }
  }
  const shape = envelopeShape.safeParse(value);
  if (!shape.success) throw new InvalidEventError(`invalid event envelope: ${describe(shape.error)}`);
  const { event } = shape.data;
  if (!isChannel(event)) throw new InvalidEventError(`unknown channel "${event}"`);
  const { traceparent, ...rest } = shape.data;
  return { ...rest, event, data: parseEventData(event, shape.data.data), ...(traceparent ? { traceparent } : {}) } as AnyEventEnvelope;
}

export function createEnvelope<C extends Channel>(
  channel: C,
  data: EventData<C>,
  meta: { source: string; correlationId: string; now?: Date },
): EventEnvelope<C> {
  const traceparent = currentTraceparent();
  return {
    event_id: randomUUID(),
    event: channel,
    timestamp: (meta.now ?? new Date()).toISOString(),
    correlation_id: meta.correlationId,
    source: meta.source,
    data: parseEventData(channel, data),
    ...(traceparent ? { traceparent } : {}),
  };
}
