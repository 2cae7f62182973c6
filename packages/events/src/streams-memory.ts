import type { PendingEntry, StreamBackend, StreamEntry } from './streams.js';

interface Entry {
  seq: number;
  id: string;
  fields: Record<string, string>;
}
interface Group {
  /** The last entry delivered to the group (`>` reads after it). */
  lastSeq: number;
  pending: Map<string, { consumer: string; deliveredAt: number; deliveries: number }>;
}
interface Stream {
  seq: number;
  entries: Entry[];
  groups: Map<string, Group>;
}

/**
 * Redis Streams semantics in one process's memory: the event bus of a process started
 * without REDIS_URL, and the bus `npm start` hosts for its services (see ipc-hub.ts).
 * Events do not survive the process; the outbox still holds every unpublished one.
 */
export function createMemoryStreams(): StreamBackend {
  const streams = new Map<string, Stream>();
  const waiters = new Set<{ streams: readonly string[]; wake(): void }>();
  let closed = false;

  const stream = (name: string) => {
    let s = streams.get(name);
    if (!s) streams.set(name, (s = { seq: 0, entries: [], groups: new Map() }));
    return s;
  };
  const group = (name: string, groupName: string) => {
    const g = streams.get(name)?.groups.get(groupName);
    if (!g) throw new Error(`NOGROUP No such key '${name}' or consumer group '${groupName}'`);
    return g;
  };
  const toEntry = (name: string, e: Entry): StreamEntry => ({ stream: name, id: e.id, fields: { ...e.fields } });

  const take = (groupName: string, consumer: string, names: readonly string[], count: number): StreamEntry[] => {
    const out: StreamEntry[] = [];
    for (const name of names) {
      const s = stream(name);
      const g = group(name, groupName);
      for (const e of s.entries) {
        if (out.length >= count) return out;
        if (e.seq <= g.lastSeq) continue;
        g.lastSeq = e.seq;
        g.pending.set(e.id, { consumer, deliveredAt: Date.now(), deliveries: 1 });
        out.push(toEntry(name, e));
      }
    }
    return out;
  };

  return {
    async add(name, fields, maxLen) {
      const s = stream(name);
      s.seq += 1;
      const id = `${Date.now()}-${s.seq}`;
      s.entries.push({ seq: s.seq, id, fields: { ...fields } });
      if (maxLen !== undefined && s.entries.length > maxLen) s.entries.splice(0, s.entries.length - maxLen);
      for (const w of waiters) if (w.streams.includes(name)) w.wake();
      return id;
    },
    async ensureGroup(name, groupName) {
      const s = stream(name);
      if (!s.groups.has(groupName)) s.groups.set(groupName, { lastSeq: 0, pending: new Map() });
    },
    async readGroup(groupName, consumer, names, count, blockMs, signal) {
      const now = take(groupName, consumer, names, count);
      if (now.length || blockMs <= 0 || closed || signal?.aborted) return now;
      await new Promise<void>((resolve) => {
        const waiter = {
          streams: names,
          wake: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            signal?.removeEventListener('abort', waiter.wake);
            resolve();
          },
        };
        const timer = setTimeout(waiter.wake, blockMs);
        waiters.add(waiter);
        signal?.addEventListener('abort', waiter.wake);
      });
      return signal?.aborted ? [] : take(groupName, consumer, names, count);
    },
    async pendingIdle(name, groupName, minIdleMs, count) {
      const g = group(name, groupName);
      const now = Date.now();
      const out: PendingEntry[] = [];
      for (const [id, p] of g.pending) {
        if (out.length >= count) break;
        if (now - p.deliveredAt >= minIdleMs) out.push({ id, consumer: p.consumer, deliveries: p.deliveries });
      }
      return out;
    },
    async claim(name, groupName, consumer, minIdleMs, ids) {
      const s = stream(name);
      const g = group(name, groupName);
      const now = Date.now();
      const out: StreamEntry[] = [];
      for (const id of ids) {
        const p = g.pending.get(id);
        if (!p || now - p.deliveredAt < minIdleMs) continue;
        const e = s.entries.find((x) => x.id === id);
        if (!e) {
          g.pending.delete(id); // trimmed away, as XCLAIM drops deleted entries from the PEL
          continue;
        }
        g.pending.set(id, { consumer, deliveredAt: now, deliveries: p.deliveries + 1 });
        out.push(toEntry(name, e));
      }
      return out;
    },
    async ack(name, groupName, ids) {
      const g = streams.get(name)?.groups.get(groupName);
      for (const id of ids) g?.pending.delete(id);
    },
    async backlog(name, groupName) {
      const s = streams.get(name);
      const g = s?.groups.get(groupName);
      if (!s || !g) return 0;
      return g.pending.size + s.entries.filter((e) => e.seq > g.lastSeq).length;
    },
    async range(name, count) {
      return (streams.get(name)?.entries ?? []).slice(0, count).map((e) => toEntry(name, e));
    },
    async del(name, ids) {
      const s = streams.get(name);
      if (!s) return 0;
      const before = s.entries.length;
      s.entries = s.entries.filter((e) => !ids.includes(e.id));
      return before - s.entries.length;
    },
    async close() {
      closed = true;
      for (const w of waiters) w.wake();
    },
  };
}
