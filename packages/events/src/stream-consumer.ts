import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { deadLetterFields, type DeadLetter } from './dead-letters.js';
import { InvalidEventError, parseEnvelope, type AnyEventEnvelope } from './envelope.js';
import type { ConsumeOptions, EventConsumer } from './stream-transport.js';
import type { StreamBackend, StreamEntry, streamKeys } from './streams.js';

/** What a consumer takes from the transport that starts it. */
export interface ConsumerStreams {
  backend: StreamBackend;
  keys: ReturnType<typeof streamKeys>;
  /** Per-deployment key prefix (EVENTS_PREFIX). */
  prefix: string;
  /** Approximate length the dead-letter stream is trimmed to. */
  maxLen: number;
}

/** A failed entry of this consumer's, claimed and delivered again once `due` (epoch ms). */
interface Retry {
  stream: string;
  due: number;
  attempt: number;
}

// The consumer's one signal is handed to every pause: the listener goes when the pause ends, however it ends.
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

const uniqueConsumerName = (group: string) => `${group}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** Starts one consumer of `opts.group` once its groups exist (see `EventTransport.consume`). */
export async function startStreamConsumer(streams: ConsumerStreams, opts: ConsumeOptions): Promise<EventConsumer> {
  const consumer = new StreamConsumer(streams, opts);
  await consumer.start();
  return consumer;
}

/**
 * One consumer in a consumer group: each turn it takes over what other consumers left
 * pending too long, delivers again its own failures whose retry is due, then reads new
 * entries until the next of those is due. Entries are acknowledged once their handler
 * resolved, or dead-lettered when they cannot succeed.
 *
 * Retries, take-overs and reads run on real time (Date.now, timers): they are transport,
 * not business time. Only `failed_at` of a dead letter reads the service's clock (`now`).
 */
class StreamConsumer implements EventConsumer {
  readonly name: string;
  readonly #s: ConsumerStreams;
  readonly #o: ConsumeOptions;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #claimIdleMs: number;
  readonly #blockMs: number;
  readonly #now: () => Date;
  /** The group's streams: one per channel, then this service's replay stream. */
  readonly #streams: string[];
  readonly #retries = new Map<string, Retry>();
  readonly #abort = new AbortController();
  #nextTakeOver = 0;
  #running: Promise<void> = Promise.resolve();

  constructor(streams: ConsumerStreams, opts: ConsumeOptions) {
    this.#s = streams;
    this.#o = opts;
    this.name = opts.consumer ?? uniqueConsumerName(opts.group);
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#retryDelayMs = opts.retryDelayMs ?? 500;
    this.#claimIdleMs = opts.claimIdleMs ?? 30_000;
    this.#blockMs = opts.blockMs ?? 2000;
    this.#now = opts.now ?? (() => new Date());
    this.#streams = [...opts.channels.map(streams.keys.channel), streams.keys.replay(opts.group)];
  }

  async start() {
    await this.#ensureGroups();
    this.#running = this.#run();
  }

  async backlog() {
    const counts = await Promise.all(this.#streams.map((s) => this.#s.backend.backlog(s, this.#o.group)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async lag() {
    const counts = await Promise.all(this.#o.channels.map(async (c) => [c, await this.#s.backend.backlog(this.#s.keys.channel(c), this.#o.group)] as const));
    return Object.fromEntries(counts);
  }

  async stop() {
    this.#abort.abort();
    await this.#running;
  }

  get #stopped() {
    return this.#abort.signal.aborted;
  }

  #ensureGroups() {
    return Promise.all(this.#streams.map((s) => this.#s.backend.ensureGroup(s, this.#o.group)));
  }

  /** Turns until stopped; a failed turn is retried with backoff, after recreating the groups. */
  async #run() {
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#turn();
        failures = 0;
      } catch (err) {
        if (this.#stopped) break;
        failures += 1;
        this.#o.log?.warn({ err, consumer: this.name }, 'event consumer failed; retrying');
        await sleep(Math.min(100 * 2 ** failures, 5000), this.#abort.signal);
        // Redis may have restarted empty: recreate the groups.
        await this.#ensureGroups().catch(() => undefined);
      }
    }
  }

  async #turn() {
    if (Date.now() >= this.#nextTakeOver) {
      await this.#takeOver();
      this.#nextTakeOver = Date.now() + Math.min(this.#claimIdleMs, 5000);
    }
    await this.#retryDue();
    await this.#readNew(this.#untilNextDue());
  }

  /** How long a read may block: until the next take-over or retry is due, at most `blockMs`. */
  #untilNextDue() {
    const nextRetry = Math.min(...[...this.#retries.values()].map((r) => r.due));
    return Math.max(1, Math.min(this.#blockMs, this.#nextTakeOver - Date.now(), nextRetry - Date.now()));
  }

  async #readNew(blockMs: number) {
    const entries = await this.#s.backend.readGroup(this.#o.group, this.name, this.#streams, 50, blockMs, this.#abort.signal);
    for (const entry of entries) {
      if (this.#stopped) break; // left pending: delivered again later
      await this.#deliver(entry, 1);
    }
  }

  /** Entries another (dead or stuck) consumer left unacknowledged. */
  async #takeOver() {
    const { backend } = this.#s;
    for (const stream of this.#streams) {
      const idle = (await backend.pendingIdle(stream, this.#o.group, this.#claimIdleMs, 100)).filter((p) => !this.#retries.has(p.id));
      if (!idle.length) continue;
      const claimed = await backend.claim(
        stream,
        this.#o.group,
        this.name,
        this.#claimIdleMs,
        idle.map((p) => p.id),
      );
      if (claimed.length) this.#o.log?.info({ stream, count: claimed.length, from: [...new Set(idle.map((p) => p.consumer))] }, 'claimed pending events');
      for (const entry of claimed) {
        if (this.#stopped) return;
        await this.#deliver(entry, (idle.find((p) => p.id === entry.id)?.deliveries ?? 0) + 1);
      }
    }
  }

  /** Own failed entries whose retry is due: claimed again by this consumer (the delivery counter goes up). */
  async #retryDue() {
    const now = Date.now();
    for (const [id, r] of [...this.#retries].sort((a, b) => a[1].due - b[1].due)) {
      if (r.due > now || this.#stopped) continue;
      const [entry] = await this.#s.backend.claim(r.stream, this.#o.group, this.name, 0, [id]);
      if (!entry) this.#retries.delete(id);
      else await this.#deliver(entry, r.attempt);
    }
  }

  /** Hands one entry to the handler: acknowledged once it resolved, else retried later or dead-lettered. */
  async #deliver(entry: StreamEntry, attempt: number) {
    let envelope: AnyEventEnvelope;
    try {
      envelope = parseEnvelope(entry.fields.envelope ?? '');
    } catch (err) {
      return this.#deadLetter(entry, errorText(err), attempt);
    }
    if (attempt > this.#maxAttempts) {
      return this.#deadLetter(entry, `delivered ${attempt - 1} times without being acknowledged`, attempt - 1, envelope);
    }
    let afterAck: void | (() => void);
    try {
      const publishedAt = Number(entry.fields.published_at);
      afterAck = await this.#o.handle(envelope, { id: entry.id, attempt, ...(Number.isFinite(publishedAt) && publishedAt > 0 ? { publishedAt } : {}) });
    } catch (err) {
      if (err instanceof InvalidEventError || attempt >= this.#maxAttempts) return this.#deadLetter(entry, errorText(err), attempt, envelope);
      return this.#retryLater(entry, attempt);
    }
    this.#retries.delete(entry.id);
    await this.#s.backend.ack(entry.stream, this.#o.group, [entry.id]);
    if (typeof afterAck === 'function') afterAck();
  }

  /** The entry stays pending; the next attempt comes after a delay doubling per attempt (at most half the claim time). */
  #retryLater(entry: StreamEntry, attempt: number) {
    const delay = Math.min(this.#retryDelayMs * 2 ** (attempt - 1), Math.max(this.#claimIdleMs / 2, this.#retryDelayMs));
    this.#retries.set(entry.id, { stream: entry.stream, due: Date.now() + delay, attempt: attempt + 1 });
  }

  /** Moves the entry to this service's dead-letter stream and acknowledges it. */
  async #deadLetter(entry: StreamEntry, error: string, attempts: number, envelope?: AnyEventEnvelope) {
    const { backend, keys, prefix, maxLen } = this.#s;
    const letter: Omit<DeadLetter, 'id'> = {
      service: this.#o.group,
      channel: envelope?.event ?? entry.stream.slice(`${prefix}:events:`.length),
      event_id: envelope?.event_id ?? null,
      correlation_id: envelope?.correlation_id ?? null,
      error,
      attempts,
      failed_at: this.#now().toISOString(),
      envelope: entry.fields.envelope ?? '',
    };
    await backend.add(keys.dead(this.#o.group), deadLetterFields(letter, entry), maxLen);
    await backend.ack(entry.stream, this.#o.group, [entry.id]);
    this.#retries.delete(entry.id);
    this.#o.log?.error({ event_id: letter.event_id, event: letter.channel, correlation_id: letter.correlation_id, attempts, error }, 'event dead-lettered');
    this.#o.onDeadLetter?.(letter);
  }
}
