import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Channel } from './catalog.js';
import { InvalidEventError, parseEnvelope, type AnyEventEnvelope, type EventEnvelope } from './envelope.js';
import { streamKeys, type StreamBackend, type StreamEntry } from './streams.js';

/** An entry a consuming service gave up on, kept in its dead-letter stream. */
export interface DeadLetter {
  /** The entry's id in the dead-letter stream (what `replay` takes). */
  id: string;
  service: string;
  channel: string;
  event_id: string | null;
  correlation_id: string | null;
  error: string;
  attempts: number;
  failed_at: string;
  /** The envelope exactly as it was read (it may not be valid JSON). */
  envelope: string;
}

export interface ConsumeOptions {
  /** The consuming service: its consumer group, dead-letter and replay streams. */
  group: string;
  channels: readonly Channel[];
  /**
   * Handles one delivery and resolves once its changes are committed; the entry is
   * acknowledged after that, then the function it may return runs. Throwing leaves it pending for a retry; an
   * `InvalidEventError` (or the last attempt) sends it to the dead-letter stream.
   */
  handle(envelope: AnyEventEnvelope, delivery: { id: string; attempt: number }): Promise<void | (() => void)>;
  /** Unique per process; default `<group>-<host>-<pid>-<random>`. */
  consumer?: string;
  /** Attempts before an entry is dead-lettered (default 5). */
  maxAttempts?: number;
  /** A failed delivery is retried after this, doubling per attempt (default 500 ms). */
  retryDelayMs?: number;
  /** Entries of another consumer unacknowledged this long are taken over (default 30 s). */
  claimIdleMs?: number;
  /** Longest blocking read (default 2 s). */
  blockMs?: number;
  log?: Logger;
  onDeadLetter?(letter: Omit<DeadLetter, 'id'>): void;
}

export interface EventConsumer {
  readonly name: string;
  /** Entries waiting for this group (not yet delivered, or delivered and unacknowledged) plus retries due. */
  backlog(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Delivery between services: streams per channel, one consumer group per consuming
 * service, at-least-once with acknowledgement after the handler commits, takeover of
 * a dead consumer's entries, bounded attempts and a dead-letter stream per service.
 */
export interface EventTransport {
  readonly kind: 'redis' | 'memory' | 'hub';
  publish(envelope: EventEnvelope | AnyEventEnvelope): Promise<string>;
  /** Appends any text to a channel's stream (tests use it for malformed events). */
  publishRaw(channel: string, raw: string): Promise<string>;
  consume(opts: ConsumeOptions): Promise<EventConsumer>;
  deadLetters(service: string, limit?: number): Promise<DeadLetter[]>;
  /** Sends dead letters back to that service only, and removes them from its dead-letter stream. */
  replay(service: string, ids: readonly string[] | 'all'): Promise<number>;
  close(): Promise<void>;
}

export interface StreamTransportOptions {
  kind: EventTransport['kind'];
  /** Per-deployment key prefix (EVENTS_PREFIX). */
  prefix: string;
  /** Approximate length channel streams are trimmed to (default 100 000). */
  maxLen?: number;
  /** Whether close() closes the backend (not for a shared in-process bus). */
  ownsBackend?: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

const uniqueConsumerName = (group: string) => `${group}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

export function createStreamTransport(backend: StreamBackend, opts: StreamTransportOptions): EventTransport {
  const keys = streamKeys(opts.prefix);
  const maxLen = opts.maxLen ?? 100_000;
  const consumers = new Set<EventConsumer>();

  const toDeadLetter = (service: string, e: StreamEntry): DeadLetter => ({
    id: e.id,
    service,
    channel: e.fields.channel ?? '',
    event_id: e.fields.event_id || null,
    correlation_id: e.fields.correlation_id || null,
    error: e.fields.error ?? '',
    attempts: Number(e.fields.attempts ?? 0),
    failed_at: e.fields.failed_at ?? '',
    envelope: e.fields.envelope ?? '',
  });

  const transport: EventTransport = {
    kind: opts.kind,
    publish: (envelope) => backend.add(keys.channel(envelope.event), { envelope: JSON.stringify(envelope) }, maxLen),
    publishRaw: (channel, raw) => backend.add(keys.channel(channel), { envelope: raw }, maxLen),

    async consume(o) {
      const name = o.consumer ?? uniqueConsumerName(o.group);
      const log = o.log;
      const maxAttempts = o.maxAttempts ?? 5;
      const retryDelayMs = o.retryDelayMs ?? 500;
      const claimIdleMs = o.claimIdleMs ?? 30_000;
      const blockMs = o.blockMs ?? 2000;
      const streams = [...o.channels.map(keys.channel), keys.replay(o.group)];
      const retries = new Map<string, { stream: string; due: number; attempt: number }>();
      const abort = new AbortController();
      const ensureGroups = () => Promise.all(streams.map((s) => backend.ensureGroup(s, o.group)));
      await ensureGroups();

      const deadLetter = async (entry: StreamEntry, error: string, attempts: number, envelope?: AnyEventEnvelope) => {
        const letter: Omit<DeadLetter, 'id'> = {
          service: o.group,
          channel: envelope?.event ?? entry.stream.slice(`${opts.prefix}:events:`.length),
          event_id: envelope?.event_id ?? null,
          correlation_id: envelope?.correlation_id ?? null,
          error,
          attempts,
          failed_at: new Date().toISOString(),
          envelope: entry.fields.envelope ?? '',
        };
        await backend.add(keys.dead(o.group), {
          ...letter,
          event_id: letter.event_id ?? '',
          correlation_id: letter.correlation_id ?? '',
          attempts: String(attempts),
          source: `${entry.stream} ${entry.id}`,
        }, maxLen);
        await backend.ack(entry.stream, o.group, [entry.id]);
        retries.delete(entry.id);
        log?.error({ event_id: letter.event_id, event: letter.channel, correlation_id: letter.correlation_id, attempts, error }, 'event dead-lettered');
        o.onDeadLetter?.(letter);
      };

      const deliver = async (entry: StreamEntry, attempt: number) => {
        let envelope: AnyEventEnvelope;
        try {
          envelope = parseEnvelope(entry.fields.envelope ?? '');
        } catch (err) {
          return deadLetter(entry, errorText(err), attempt);
        }
        if (attempt > maxAttempts) {
          return deadLetter(entry, `delivered ${attempt - 1} times without being acknowledged`, attempt - 1, envelope);
        }
        let afterAck: void | (() => void);
        try {
          afterAck = await o.handle(envelope, { id: entry.id, attempt });
        } catch (err) {
          if (err instanceof InvalidEventError || attempt >= maxAttempts) return deadLetter(entry, errorText(err), attempt, envelope);
          const delay = Math.min(retryDelayMs * 2 ** (attempt - 1), Math.max(claimIdleMs / 2, retryDelayMs));
          retries.set(entry.id, { stream: entry.stream, due: Date.now() + delay, attempt: attempt + 1 });
          return;
        }
        retries.delete(entry.id);
        await backend.ack(entry.stream, o.group, [entry.id]);
        if (typeof afterAck === 'function') afterAck();
      };

      // Own failed entries whose retry is due: claimed again by this consumer (the delivery counter goes up).
      const retryDue = async () => {
        const now = Date.now();
        for (const [id, r] of [...retries].sort((a, b) => a[1].due - b[1].due)) {
          if (r.due > now || abort.signal.aborted) continue;
          const [entry] = await backend.claim(r.stream, o.group, name, 0, [id]);
          if (!entry) retries.delete(id);
          else await deliver(entry, r.attempt);
        }
      };

      // Entries another (dead or stuck) consumer left unacknowledged.
      const takeOver = async () => {
        for (const stream of streams) {
          const idle = (await backend.pendingIdle(stream, o.group, claimIdleMs, 100)).filter((p) => !retries.has(p.id));
          if (!idle.length) continue;
          const claimed = await backend.claim(stream, o.group, name, claimIdleMs, idle.map((p) => p.id));
          if (claimed.length) log?.info({ stream, count: claimed.length, from: [...new Set(idle.map((p) => p.consumer))] }, 'claimed pending events');
          for (const entry of claimed) {
            if (abort.signal.aborted) return;
            await deliver(entry, (idle.find((p) => p.id === entry.id)?.deliveries ?? 0) + 1);
          }
        }
      };

      const loop = async () => {
        let nextTakeOver = 0;
        let failures = 0;
        while (!abort.signal.aborted) {
          try {
            if (Date.now() >= nextTakeOver) {
              await takeOver();
              nextTakeOver = Date.now() + Math.min(claimIdleMs, 5000);
            }
            await retryDue();
            const nextRetry = Math.min(...[...retries.values()].map((r) => r.due));
            const wait = Math.max(1, Math.min(blockMs, nextTakeOver - Date.now(), nextRetry - Date.now()));
            const entries = await backend.readGroup(o.group, name, streams, 50, wait, abort.signal);
            for (const entry of entries) {
              if (abort.signal.aborted) break; // left pending: delivered again later
              await deliver(entry, 1);
            }
            failures = 0;
          } catch (err) {
            if (abort.signal.aborted) break;
            failures += 1;
            log?.warn({ err, consumer: name }, 'event consumer failed; retrying');
            await sleep(Math.min(100 * 2 ** failures, 5000), abort.signal);
            // Redis may have restarted empty: recreate the groups.
            await ensureGroups().catch(() => undefined);
          }
        }
      };
      const running = loop();
      const consumer: EventConsumer = {
        name,
        async backlog() {
          const counts = await Promise.all(streams.map((s) => backend.backlog(s, o.group)));
          return counts.reduce((a, b) => a + b, 0);
        },
        async stop() {
          abort.abort();
          await running;
          consumers.delete(consumer);
        },
      };
      consumers.add(consumer);
      return consumer;
    },

    async deadLetters(service, limit = 1000) {
      return (await backend.range(keys.dead(service), limit)).map((e) => toDeadLetter(service, e));
    },

    async replay(service, ids) {
      const letters = await transport.deadLetters(service, 100_000);
      const chosen = ids === 'all' ? letters : letters.filter((l) => ids.includes(l.id));
      for (const letter of chosen) {
        await backend.add(keys.replay(service), { envelope: letter.envelope }, maxLen);
        await backend.del(keys.dead(service), [letter.id]);
      }
      return chosen.length;
    },

    async close() {
      await Promise.all([...consumers].map((c) => c.stop()));
      if (opts.ownsBackend !== false) await backend.close();
    },
  };
  return transport;
}
