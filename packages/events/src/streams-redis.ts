import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { PendingEntry, StreamBackend, StreamEntry } from './streams.js';

// Loaded on first use only: ioredis costs a service about 100 ms of start-up CPU, and
// without REDIS_URL (npm start, most tests) nothing needs it (redis-loading.test.ts).
const require = createRequire(import.meta.url);

type RawEntry = [id: string, fields: string[]];

const toFields = (flat: string[]) => {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1]!;
  return fields;
};
const toEntries = (stream: string, raw: RawEntry[] | null | undefined): StreamEntry[] =>
  (raw ?? []).filter((e): e is RawEntry => Array.isArray(e) && Array.isArray(e[1])).map(([id, flat]) => ({ stream, id, fields: toFields(flat) }));

/**
 * A group's entries not yet delivered (lag) plus those delivered and not acknowledged (pending),
 * read in one step: Redis runs a script alone, so no delivery falls between the two counts. The
 * lag is unknown (nil) after deletions inside the stream; then the entries after the group's last
 * delivered id are counted instead (up to 10,000). A stream or group that does not exist has none.
 */
const BACKLOG_SCRIPT = `
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if groups['err'] then return 0 end
for _, flat in ipairs(groups) do
  local g = {}
  for i = 1, #flat, 2 do g[flat[i]] = flat[i + 1] end
  if g['name'] == ARGV[1] then
    if g['lag'] then return g['pending'] + g['lag'] end
    return g['pending'] + #redis.call('XRANGE', KEYS[1], '(' .. g['last-delivered-id'], '+', 'COUNT', 10000)
  end
end
return 0
`;

/**
 * Redis Streams through ioredis: one connection for commands and one for blocking
 * reads (a connection blocked in XREADGROUP cannot send anything else). ioredis
 * reconnects by itself when Redis restarts; callers retry what failed meanwhile.
 */
export function createRedisStreams(url: string, opts: { onError?: (err: Error) => void; connectionName?: string } = {}): StreamBackend {
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  // Commands fail after a few reconnection attempts (the relay and consumer retry them);
  // a blocking read waits across reconnections instead.
  const connect = (maxRetriesPerRequest: number | null) => {
    const r = new RedisClient(url, { maxRetriesPerRequest, connectionName: opts.connectionName ?? 'fitsync-events' });
    r.on('error', (err: Error) => opts.onError?.(err));
    return r;
  };
  // No command timeout: nothing here is in a request's way (the relay bounds its publishes itself),
  // and a timer would fire whenever this process is busy for a while, not only when Redis is gone.
  const cmd = connect(5);
  let blocking: Redis | undefined;
  // The server's run_id, read on every (re)connection: a new one is a restarted Redis.
  let epoch: string | undefined;
  cmd.on('ready', () => {
    cmd
      .info('server')
      .then((info) => (epoch = /^run_id:(\w+)/m.exec(info)?.[1] ?? epoch))
      .catch(() => undefined);
  });

  return {
    async add(stream, fields, maxLen) {
      const flat = Object.entries(fields).flat();
      const id = maxLen === undefined ? await cmd.xadd(stream, '*', ...flat) : await cmd.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...flat);
      return id!;
    },
    async ensureGroup(stream, group) {
      try {
        await cmd.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
      }
    },
    async readGroup(group, consumer, streams, count, blockMs, signal) {
      if (signal?.aborted) return [];
      const conn = (blocking ??= connect(null));
      // Aborting drops the blocked connection; the next read opens a new one.
      const abort = () => {
        if (blocking === conn) blocking = undefined;
        conn.disconnect();
      };
      signal?.addEventListener('abort', abort);
      const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
      if (blockMs > 0) args.push('BLOCK', blockMs);
      args.push('STREAMS', ...streams, ...streams.map(() => '>'));
      let res: [string, RawEntry[]][] | null;
      try {
        res = (await (conn.xreadgroup as (...a: (string | number)[]) => Promise<unknown>).apply(conn, args)) as [string, RawEntry[]][] | null;
      } catch (err) {
        if (signal?.aborted) return [];
        throw err;
      } finally {
        signal?.removeEventListener('abort', abort);
      }
      return (res ?? []).flatMap(([stream, entries]) => toEntries(stream, entries));
    },
    async pendingIdle(stream, group, minIdleMs, count) {
      const res = (await cmd.xpending(stream, group, 'IDLE', minIdleMs, '-', '+', count)) as [string, string, number, number][];
      return res.map(([id, consumer, , deliveries]): PendingEntry => ({ id, consumer, deliveries: Number(deliveries) }));
    },
    async claim(stream, group, consumer, minIdleMs, ids) {
      if (!ids.length) return [];
      return toEntries(stream, (await cmd.xclaim(stream, group, consumer, minIdleMs, ...ids)) as RawEntry[]);
    },
    async ack(stream, group, ids) {
      if (ids.length) await cmd.xack(stream, group, ...ids);
    },
    async backlog(stream, group) {
      return Number(await cmd.eval(BACKLOG_SCRIPT, 1, stream, group));
    },
    async range(stream, count) {
      return toEntries(stream, await cmd.xrange(stream, '-', '+', 'COUNT', count));
    },
    async del(stream, ids) {
      return ids.length ? cmd.xdel(stream, ...ids) : 0;
    },
    epoch: () => epoch,
    async close() {
      blocking?.disconnect();
      await Promise.race([cmd.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      cmd.disconnect();
    },
  };
}
