import type { Logger } from 'pino';
import type { Channel } from './catalog.js';
import { deadLetterFromEntry, type DeadLetter } from './dead-letters.js';
import type { AnyEventEnvelope, EventEnvelope } from './envelope.js';
import { startStreamConsumer } from './stream-consumer.js';
import { streamKeys, type StreamBackend } from './streams.js';

/** One delivery of a stream entry to a consumer. */
export interface Delivery {
  /** The stream entry's id. */
  id: string;
  /** 1 for the first delivery, then one more for each retry or take-over. */
  attempt: number;
  /** When it was published (epoch ms, real time, the publisher's), for the publish-to-handled latency; unknown for replayed dead letters. */
  publishedAt?: number;
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
  handle(envelope: AnyEventEnvelope, delivery: Delivery): Promise<void | (() => void)>;
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
  /**
   * The service's business clock, for `failed_at` of dead letters (default the system
   * clock). Retries, take-overs and reads wait on real time whatever it says.
   */
  now?: () => Date;
  onDeadLetter?(letter: Omit<DeadLetter, 'id'>): void;
}

export interface EventConsumer {
  readonly name: string;
  /** Entries waiting for this group (not yet delivered, or delivered and unacknowledged) plus retries due. */
  backlog(): Promise<number>;
  /** The same per channel consumed (the consumer lag on /metrics). */
  lag(): Promise<Partial<Record<Channel, number>>>;
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
  /** The broker run that holds what was published so far (see `StreamBackend.epoch`); undefined where it cannot restart apart from this process. */
  epoch?(): string | undefined;
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

/**
 * The event transport over any stream backend (Redis Streams, memory, the npm start hub):
 * channel streams trimmed to `maxLen`, a consumer group per consuming service, and that
 * service's dead-letter and replay streams.
 */
export function createStreamTransport(backend: StreamBackend, opts: StreamTransportOptions): EventTransport {
  const keys = streamKeys(opts.prefix);
  const maxLen = opts.maxLen ?? 100_000;
  const consumers = new Set<EventConsumer>();

  const transport: EventTransport = {
    kind: opts.kind,
    // published_at: transport time, for the publish-to-handled latency (the envelope's timestamp is business time).
    publish: (envelope) => backend.add(keys.channel(envelope.event), { envelope: JSON.stringify(envelope), published_at: String(Date.now()) }, maxLen),
    epoch: () => backend.epoch?.(),
    publishRaw: (channel, raw) => backend.add(keys.channel(channel), { envelope: raw }, maxLen),

    async consume(o) {
      const started = await startStreamConsumer({ backend, keys, prefix: opts.prefix, maxLen }, o);
      const consumer: EventConsumer = {
        name: started.name,
        backlog: () => started.backlog(),
        lag: () => started.lag(),
        async stop() {
          await started.stop();
          consumers.delete(consumer);
        },
      };
      consumers.add(consumer);
      return consumer;
    },

    async deadLetters(service, limit = 1000) {
      return (await backend.range(keys.dead(service), limit)).map((e) => deadLetterFromEntry(service, e));
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
