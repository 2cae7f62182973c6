import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { AnyEventEnvelope } from './envelope.js';
import type { SqlRunner } from './outbox.js';
import type { EventTransport } from './stream-transport.js';
import { SpanKind, contextOf, inSpan } from './tracing.js';

/** A service database as the relay and the consumer runtime use it (service-kit's `Database` fits). */
export interface EventDatabase extends SqlRunner {
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export interface RelayOptions {
  db: EventDatabase;
  transport: EventTransport;
  log: Logger;
  /** Rows per transaction (default 100). */
  batchSize?: number;
  /** A look at the outbox even when nothing woke the relay: events written by another process or replica, or left by a crash (default 1 s). */
  pollIntervalMs?: number;
  onPublished?(envelope: AnyEventEnvelope): void;
  /**
   * How long one publish may take before the batch stops there (default 1 s). The batch holds
   * its outbox rows locked (on PGlite: the whole database) while it publishes, so a transport
   * that waits for a broker to come back must not hold the service's writes with it.
   */
  publishTimeoutMs?: number;
  /**
   * How far back the relay publishes again what a restarted broker may have lost (default 60 s):
   * when the transport's epoch changes (Redis restarted, possibly empty), the events this relay
   * published under the old one within this window go out again (at least once: the consumers'
   * inbox drops what they had already handled).
   */
  republishWindowMs?: number;
}

export interface Relay {
  /** An event was written in a transaction that is about to commit: publish it as soon as it is visible. */
  written(eventId: string): void;
  /** Publishes what is unpublished now; resolves with how many it published. */
  flush(): Promise<number>;
  /** Resolves once the outbox has no unpublished row (or rejects after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  /**
   * How many batches with rows to publish are under way, and how many have started: an event in a
   * publish is in the broker and still unpublished in the outbox until the batch commits, so a
   * look at several services that are not read at one instant may miss it (see `waitForEvents`).
   * A look that finds nothing to publish (the poll, the retries) counts for neither.
   */
  activity(): { busy: number; started: number };
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// How long an event announced by `written` is looked for: past this its transaction rolled back (or the poll finds it).
const EXPECT_MS = 3000;

/**
 * Delivers the outbox: rows with `published_at IS NULL` in `seq` order, locked with
 * `FOR UPDATE SKIP LOCKED` so two replicas on one schema never publish a row twice,
 * stamped in the same transaction. A crash after a service's commit only delays its
 * events: the next run (this process's poll, or the restarted process) publishes them.
 */
export function startRelay(opts: RelayOptions): Relay {
  const batchSize = opts.batchSize ?? 100;
  const publishTimeoutMs = opts.publishTimeoutMs ?? 1_000;
  // After a failed batch the relay waits before trying again, longer after each failure in a
  // row (0.5 s doubling to 5 s): wake-ups meanwhile (new events, the poll) do not retry sooner.
  let failures = 0;
  let pausedUntil = 0;
  const publish = async (envelope: AnyEventEnvelope) => {
    let timer: NodeJS.Timeout | undefined;
    const sent = opts.transport.publish(envelope);
    // Past the deadline it may still arrive: at least once, and the consumers' inbox drops the repeat.
    sent.catch(() => undefined);
    try {
      await Promise.race([
        sent,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`publishing took longer than ${publishTimeoutMs} ms`)), publishTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const republishWindowMs = opts.republishWindowMs ?? 60_000;
  /** What this relay published lately, oldest first, with the broker run it went to. */
  let recent: { seq: string; at: number; epoch: string }[] = [];
  const RECENT_MAX = 100_000;
  /** After a broker restart, marks what it may have lost unpublished again; how many. */
  const republishLost = async () => {
    const epoch = opts.transport.epoch?.();
    if (epoch === undefined || recent.length === 0) return 0;
    const since = Date.now() - republishWindowMs;
    recent = recent.filter((r) => r.at >= since);
    const lost = recent.filter((r) => r.epoch !== epoch);
    if (!lost.length) return 0;
    await opts.db.query('UPDATE event_outbox SET published_at = NULL WHERE seq = ANY($1::bigint[])', [lost.map((r) => r.seq)]);
    recent = recent.filter((r) => r.epoch === epoch);
    opts.log.warn({ events: lost.length, windowMs: republishWindowMs }, 'the event broker restarted: publishing again what it may have lost');
    return lost.length;
  };
  const expected = new Map<string, number>();
  let running: Promise<number> | undefined;
  // Batches that found rows to publish: under way (from the rows' selection to the commit) and started.
  let publishing = 0;
  let publishes = 0;
  let again = false;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const publishBatch = async () => {
    let counted = false;
    try {
      return await opts.db.transaction(async (tx) => {
        const rows = await tx.query<{ seq: string; envelope: AnyEventEnvelope | string }>(
          'SELECT seq, envelope FROM event_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
          [batchSize],
        );
        if (rows.length && !counted) {
          counted = true;
          publishing++;
          publishes++;
        }
        const done: string[] = [];
        const went: typeof recent = [];
        let failure: unknown;
        for (const row of rows) {
          const envelope = (typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope) as AnyEventEnvelope;
          try {
            // The publish is a step of the trace that wrote the event (an event written untraced gets no span).
            if (envelope.traceparent)
              await inSpan(
                `${envelope.event} publish`,
                {
                  kind: SpanKind.PRODUCER,
                  parent: contextOf(envelope.traceparent),
                  attributes: {
                    'messaging.system': opts.transport.kind,
                    'messaging.destination.name': envelope.event,
                    'messaging.message.id': envelope.event_id,
                  },
                },
                () => publish(envelope),
              );
            else await publish(envelope);
          } catch (err) {
            failure = err;
            break;
          }
          done.push(String(row.seq));
          // Read once the broker acknowledged: a restart before this is seen leads to a repeat, never a loss.
          const epoch = opts.transport.epoch?.();
          if (epoch !== undefined) went.push({ seq: String(row.seq), at: Date.now(), epoch });
          expected.delete(envelope.event_id);
          opts.log.info({ event_id: envelope.event_id, event: envelope.event, correlation_id: envelope.correlation_id }, 'event published');
          opts.onPublished?.(envelope);
        }
        if (done.length) await tx.query('UPDATE event_outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [done]);
        recent.push(...went);
        if (recent.length > RECENT_MAX) recent = recent.slice(-RECENT_MAX);
        if (failure) opts.log.warn({ err: failure, published: done.length }, 'relay could not publish; retrying shortly');
        return { published: done.length, full: rows.length === batchSize && !failure, failed: Boolean(failure) };
      });
    } finally {
      // Its entries are in the broker and its rows unpublished until here (the commit).
      if (counted) publishing--;
    }
  };

  const run = async (): Promise<number> => {
    let total = 0;
    do {
      again = false;
      const r = await republishLost()
        .then(() => publishBatch())
        .catch((err: unknown) => {
          opts.log.warn({ err }, 'relay failed; retrying shortly');
          return { published: 0, full: false, failed: true };
        });
      total += r.published;
      if (r.full) again = true;
      if (r.failed) {
        const delay = Math.min(500 * 2 ** failures++, 5_000);
        pausedUntil = Date.now() + delay;
        scheduleRetry(delay);
        break;
      }
      failures = 0;
    } while (again && !stopped);
    // Announced events whose transaction has not committed yet: look again shortly.
    const now = Date.now();
    for (const [id, since] of expected) if (now - since > EXPECT_MS) expected.delete(id);
    if (expected.size) scheduleRetry(5);
    return total;
  };

  const kick = (): Promise<number> => {
    if (stopped) return Promise.resolve(0);
    if (Date.now() < pausedUntil) {
      scheduleRetry(pausedUntil - Date.now());
      return Promise.resolve(0);
    }
    if (running) {
      again = true;
      return running;
    }
    running = run().finally(() => (running = undefined));
    return running;
  };

  function scheduleRetry(ms: number) {
    if (retryTimer || stopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void kick();
    }, ms);
  }

  const poll = setInterval(() => void kick(), opts.pollIntervalMs ?? 1000);
  poll.unref();
  void kick(); // whatever a previous run of this service left unpublished

  return {
    written(eventId) {
      expected.set(eventId, Date.now());
      // The writer's transaction commits right after this call returns. The relay's work is not
      // part of the writer's request (its publish spans join the events' own traces).
      context.with(ROOT_CONTEXT, () => setImmediate(() => void kick()));
    },
    flush: async () => {
      await running;
      return kick();
    },
    activity: () => ({ busy: publishing, started: publishes }),
    async idle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await running;
        const [row] = await opts.db.query<{ n: number | string }>('SELECT count(*) AS n FROM event_outbox WHERE published_at IS NULL');
        if (Number(row?.n ?? 0) === 0) return;
        if (Date.now() > deadline) throw new Error(`the outbox still holds ${row?.n} unpublished events after ${timeoutMs} ms`);
        void kick();
        await sleep(10);
      }
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      if (retryTimer) clearTimeout(retryTimer);
      await running;
    },
  };
}
