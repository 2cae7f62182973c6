import { context, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Channel } from './catalog.js';
import type { AnyEventEnvelope } from './envelope.js';
import type { EventHandler, EventHandlers } from './handlers.js';
import type { LivePayloadOf, LivePublisher } from '@fitsync/live';
import { createEventMetrics } from './metrics.js';
import { createEventWriter, type EventWriter } from './outbox.js';
import { startRelay, type EventDatabase, type Relay } from './relay.js';
import type { ConsumeOptions, Delivery, EventConsumer, EventTransport } from './stream-transport.js';
import { SpanKind, inSpan, linksTo } from './tracing.js';

export interface EventRuntimeOptions {
  /** The service: the source of its events, its consumer group and inbox name. */
  service: string;
  db: EventDatabase;
  transport: EventTransport;
  /** The channels this service consumes; none means no consumer. */
  handlers?: EventHandlers;
  log: Logger;
  /** Where handlers' live messages go once their transaction committed. */
  live: LivePublisher;
  /** The service's metrics registry; counters are added to it. */
  registry?: Registry;
  /**
   * The service's business clock: the `timestamp` of every envelope it writes (from
   * requests and from handlers) and `failed_at` of its dead letters; default the system
   * clock. The relay's polling and the consumer's retries and claims run on real time.
   */
  now?: () => Date;
  /** Consumer tuning (tests shorten the waits). */
  consumer?: Pick<ConsumeOptions, 'maxAttempts' | 'retryDelayMs' | 'claimIdleMs' | 'blockMs' | 'consumer'>;
  relay?: { pollIntervalMs?: number; batchSize?: number };
}

/** A service's event machinery: the outbox relay and, when it consumes channels, its consumer. */
export interface EventRuntime {
  /** `ctx.events` for one request or job: the relay publishes what it writes right after commit. */
  writer(correlationId: string): EventWriter;
  readonly relay: Relay;
  readonly consumer?: EventConsumer;
  readonly transport: EventTransport;
  /**
   * Resolves once this service has nothing left to do: no unpublished outbox row and no
   * entry waiting for its consumer group (undelivered, unacknowledged or awaiting retry).
   */
  idle(timeoutMs?: number): Promise<void>;
  /** What is left right now: unpublished outbox rows plus entries waiting for this service's consumer group. */
  pending(): Promise<number>;
  /**
   * How many moves of an event are under way in this process (a publish, a handler) and how
   * many have started: read from several runtimes in one tick, a snapshot `waitForEvents`
   * compares before and after it reads their `pending()`.
   */
  activity(): { busy: number; started: number };
  /** Stops the consumer and the relay (the transport is the caller's). */
  close(): Promise<void>;
}

/** Publishes nothing until `flush`: live messages of a handler wait for its commit. */
function bufferedLive(): LivePublisher & { flush(to: LivePublisher, log: Logger): Promise<void> } {
  const messages: [string, unknown][] = [];
  return {
    async publish<T extends string>(topic: T, payload: LivePayloadOf<T>) {
      messages.push([topic, payload]);
    },
    async flush(to, log) {
      await Promise.all(
        messages.map(([topic, payload]) => to.publish(topic, payload as never).catch((err: unknown) => log.warn({ err, topic }, 'live message not sent'))),
      );
    },
  };
}

export async function startEventRuntime(opts: EventRuntimeOptions): Promise<EventRuntime> {
  const metrics = opts.registry ? createEventMetrics(opts.registry) : undefined;
  const relay = startRelay({
    db: opts.db,
    transport: opts.transport,
    log: opts.log,
    ...opts.relay,
    onPublished: (e) => metrics?.published.inc({ channel: e.event }),
  });
  const writer = (correlationId: string) =>
    createEventWriter({ source: opts.service, correlationId, now: opts.now, onWritten: (e) => relay.written(e.event_id) });

  // Handlers under way and started, for `activity()`.
  let handling = 0;
  let handled = 0;
  const handle = async (envelope: AnyEventEnvelope, delivery: Delivery) => {
    handling++;
    handled++;
    try {
      return await handleTraced(envelope, delivery);
    } finally {
      handling--;
    }
  };
  // Each delivery is its own trace, linked to the request (or handler) that wrote the event.
  const handleTraced = (envelope: AnyEventEnvelope, delivery: Delivery) =>
    inSpan(
      `${envelope.event} process`,
      {
        kind: SpanKind.CONSUMER,
        links: linksTo(envelope.traceparent),
        attributes: {
          'messaging.system': opts.transport.kind,
          'messaging.operation.type': 'process',
          'messaging.destination.name': envelope.event,
          'messaging.consumer.group.name': opts.service,
          'messaging.message.id': envelope.event_id,
          'fitsync.correlation_id': envelope.correlation_id,
          'fitsync.delivery.attempt': delivery.attempt,
        },
      },
      async (span) => {
        const afterAck = await handleInTrace(envelope, delivery);
        if (!afterAck) return;
        // The live messages go once the entry is acknowledged: their span is the handler's child, linked to the cause too.
        const parent = trace.setSpan(context.active(), span);
        return () =>
          void inSpan(
            'live publish',
            { kind: SpanKind.PRODUCER, parent, links: linksTo(envelope.traceparent), attributes: { 'messaging.system': 'fitsync-live' } },
            afterAck,
          );
      },
    );

  const handleInTrace = async (envelope: AnyEventEnvelope, delivery: Delivery): Promise<(() => Promise<void>) | undefined> => {
    const handler = opts.handlers?.[envelope.event] as EventHandler<Channel> | undefined;
    const log = opts.log.child({ event_id: envelope.event_id, event: envelope.event, correlation_id: envelope.correlation_id });
    if (!handler) return undefined; // a replayed event of a channel this service no longer consumes
    const live = bufferedLive();
    const started = Date.now();
    let fresh: boolean;
    try {
      fresh = await opts.db.transaction(async (tx) => {
        const inserted = await tx.query('INSERT INTO event_inbox (consumer, event_id, channel) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id', [
          opts.service,
          envelope.event_id,
          envelope.event,
        ]);
        if (!inserted.length) return false;
        await handler(envelope, { tx, events: writer(envelope.correlation_id), live, log });
        return true;
      });
    } catch (err) {
      metrics?.failed.inc({ channel: envelope.event });
      log.warn({ err, attempt: delivery.attempt }, 'event handler failed');
      throw err;
    }
    if (!fresh) {
      metrics?.duplicates.inc({ channel: envelope.event });
      log.info({ attempt: delivery.attempt }, 'event already handled: skipped');
      return undefined;
    }
    metrics?.handled.inc({ channel: envelope.event });
    if (delivery.publishedAt !== undefined)
      metrics?.publishToHandled.observe({ channel: envelope.event, consumer: opts.service }, Math.max(0, Date.now() - delivery.publishedAt) / 1000);
    log.info({ attempt: delivery.attempt, ms: Date.now() - started }, 'event handled');
    return () => live.flush(opts.live, log);
  };

  const channels = Object.keys(opts.handlers ?? {}) as Channel[];
  const consumer = channels.length
    ? await opts.transport.consume({
        group: opts.service,
        channels,
        handle,
        log: opts.log,
        now: opts.now,
        ...opts.consumer,
        onDeadLetter: (letter) => metrics?.deadLettered.inc({ channel: letter.channel }),
      })
    : undefined;
  // Every consumed channel has its series from the start (at 0): `increase()` in an alert sees the first failure too.
  if (consumer)
    for (const channel of channels) for (const c of [metrics?.handled, metrics?.failed, metrics?.deadLettered, metrics?.duplicates]) c?.inc({ channel }, 0);
  const lagSource = consumer && { consumer: opts.service, lag: () => consumer.lag() };
  if (lagSource) metrics?.lagSources.add(lagSource);

  const unpublished = async () => {
    const [row] = await opts.db.query<{ n: number | string }>('SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL');
    return Number(row?.n ?? 0);
  };

  return {
    writer,
    relay,
    // The backlog first: a handler commits its follow-up events before it acknowledges its entry,
    // so an entry gone from the backlog has its follow-ups in the outbox by the second look.
    pending: async () => (consumer ? await consumer.backlog() : 0) + (await unpublished()),
    activity: () => {
      const r = relay.activity();
      return { busy: handling + r.busy, started: handled + r.started };
    },
    consumer,
    transport: opts.transport,
    async idle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await relay.idle(Math.max(1, deadline - Date.now()));
        const backlog = consumer ? await consumer.backlog() : 0;
        if (backlog === 0) {
          // A handler may have written follow-up events just before its entry was acknowledged.
          if ((await unpublished()) === 0) return;
        } else if (Date.now() > deadline) {
          throw new Error(`${opts.service} still has ${backlog} events to handle after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      if (lagSource) metrics?.lagSources.delete(lagSource);
      await consumer?.stop();
      await relay.stop();
    },
  };
}

/**
 * Waits until every given service is idle at once (e.g. `waitForEvents(subgraphs.map((s) => s.events))`):
 * events one service handles may make another publish, so one pass is not enough.
 *
 * The services' `pending()` are read one after another, not at one instant, and an event can
 * move between two of them in the meantime: a relay publishes it into the broker (the target
 * already read, nothing there yet) and commits (the source read after, nothing unpublished),
 * so both read 0 while it is on its way. So the runtimes' `activity()` is read (in one tick,
 * all of them in this process) before and after: nothing under way either time and nothing
 * started in between means nothing moved while `pending()` was read, and its zeros are the
 * state of one moment.
 */
export async function waitForEvents(runtimes: readonly Pick<EventRuntime, 'idle' | 'pending' | 'activity'>[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const snapshot = () => {
    const a = runtimes.map((r) => r.activity());
    return { busy: a.some((x) => x.busy > 0), started: a.reduce((n, x) => n + x.started, 0) };
  };
  for (;;) {
    for (const r of runtimes) await r.idle(Math.max(1, deadline - Date.now()));
    const before = snapshot();
    const left = await Promise.all(runtimes.map((r) => r.pending()));
    const after = snapshot();
    if (!before.busy && !after.busy && before.started === after.started && left.every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`events still flowing after ${timeoutMs} ms`);
    // Something moved or is under way: look again once it has had a moment.
    await new Promise((r) => setTimeout(r, 5));
  }
}
