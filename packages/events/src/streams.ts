/**
 * The stream operations the event transport needs, as Redis Streams defines them
 * (XADD, XREADGROUP, XPENDING, XCLAIM, XACK, XRANGE, XDEL). Redis implements them for
 * real; the in-process bus implements the same semantics in memory, so consumer
 * groups, acknowledgements, redelivery and dead letters behave alike on both.
 */
export interface StreamEntry {
  stream: string;
  id: string;
  fields: Record<string, string>;
}

export interface PendingEntry {
  id: string;
  consumer: string;
  /** Deliveries so far (Redis's delivery counter). */
  deliveries: number;
}

export interface StreamBackend {
  /** Appends an entry; `maxLen` trims the stream approximately to that many entries. */
  add(stream: string, fields: Record<string, string>, maxLen?: number): Promise<string>;
  /** Creates the group at the start of the stream (and the stream) unless it exists. */
  ensureGroup(stream: string, group: string): Promise<void>;
  /** New entries for this consumer, waiting up to `blockMs` for one to arrive (or until `signal` aborts: then none). */
  readGroup(group: string, consumer: string, streams: readonly string[], count: number, blockMs: number, signal?: AbortSignal): Promise<StreamEntry[]>;
  /** Entries delivered but not acknowledged for at least `minIdleMs`, oldest first. */
  pendingIdle(stream: string, group: string, minIdleMs: number, count: number): Promise<PendingEntry[]>;
  /** Takes over pending entries idle for `minIdleMs`; each delivery counter goes up by one. Entries trimmed meanwhile are left out. */
  claim(stream: string, group: string, consumer: string, minIdleMs: number, ids: readonly string[]): Promise<StreamEntry[]>;
  ack(stream: string, group: string, ids: readonly string[]): Promise<void>;
  /** Entries not yet delivered to the group plus those delivered and not acknowledged. */
  backlog(stream: string, group: string): Promise<number>;
  range(stream: string, count: number): Promise<StreamEntry[]>;
  del(stream: string, ids: readonly string[]): Promise<number>;
  /**
   * Which run of the broker holds what was added so far (Redis's run_id), where a broker can
   * restart and forget: a new value means entries added under the old one may be gone.
   * Undefined where the streams live and die with this process (memory, the npm start hub).
   */
  epoch?(): string | undefined;
  close(): Promise<void>;
}

/** Stream names under a per-deployment prefix. */
export const streamKeys = (prefix: string) => ({
  /** One stream per channel, read by every consuming service's group. */
  channel: (channel: string) => `${prefix}:events:${channel}`,
  /** Dead letters replayed to one service only (other services already handled them). */
  replay: (service: string) => `${prefix}:replay:${service}`,
  /** Entries one service gave up on, with their error. */
  dead: (service: string) => `${prefix}:dead:${service}`,
});
