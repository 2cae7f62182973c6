// A broker that restarts empty (Redis without persistence, SIGKILLed) forgets the entries no
// consumer had read yet, although it acknowledged them and the relay stamped them published.
// The relay notes which broker run (the transport's epoch: Redis's run_id) took each event and,
// once a new run answers, publishes again what it sent within its window; the consumers' inbox
// drops the repeats. Here the broker is the in-memory stream backend, swapped for an empty one
// with a new epoch: the restart, without a Redis to kill (tests/drill-redis-restart.test.ts kills one).
import { randomUUID } from 'node:crypto';
import { openTestDatabase } from '@fitsync/service-kit/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createEventWriter, createMemoryStreams, createStreamTransport, startRelay, streamKeys, type StreamBackend } from '../index.js';

const MIGRATIONS = new URL('../../migrations/', import.meta.url);
const PREFIX = 'relay-restart';
const CHANNEL = streamKeys(PREFIX).channel('booking.reminder');
const reminder = () => ({
  booking_id: randomUUID(),
  client_id: randomUUID(),
  trainer_id: randomUUID(),
  booking_date: '2026-12-01',
  start_time: '09:00',
  hours_until: 24,
});

/** A broker that can restart: each run an empty in-memory backend with its own epoch. */
function restartableBroker() {
  let run = 1;
  let current = createMemoryStreams();
  const backend = new Proxy({} as StreamBackend, {
    get: (_, name: keyof StreamBackend) => (name === 'epoch' ? () => `run-${run}` : (current[name] as (...a: unknown[]) => unknown).bind(current)),
  });
  return {
    backend,
    restart() {
      run += 1;
      current = createMemoryStreams();
    },
    eventIds: async () => (await current.range(CHANNEL, 100)).map((e) => (JSON.parse(e.fields.envelope) as { event_id: string }).event_id).sort(),
  };
}

describe('the relay across a broker restarted empty', () => {
  it('publishes again what the lost run had taken, and nothing twice while the broker stays up', async () => {
    const { db, dispose } = await openTestDatabase('events', MIGRATIONS, 'pglite');
    const broker = restartableBroker();
    const transport = createStreamTransport(broker.backend, { kind: 'redis', prefix: PREFIX });
    const relay = startRelay({ db, transport, log: pino({ level: 'silent' }), pollIntervalMs: 60_000 });
    try {
      const events = createEventWriter({ source: 'schedule', correlationId: 'restart' });
      const written = [];
      for (let i = 0; i < 3; i++) written.push(await db.transaction((tx) => events.emit(tx, 'booking.reminder', reminder())));
      await relay.idle();
      const ids = written.map((e) => e.event_id).sort();
      expect(await broker.eventIds()).toEqual(ids);

      // The same run: nothing goes out again.
      expect(await relay.flush()).toBe(0);
      expect(await broker.eventIds()).toEqual(ids);

      // Restarted empty: the three are published again, to the new run, and stamped again.
      broker.restart();
      expect(await broker.eventIds()).toEqual([]);
      expect(await relay.flush()).toBe(3);
      expect(await broker.eventIds()).toEqual(ids);
      const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL');
      expect(n).toBe(0);

      // An event written after the restart goes out once, and the earlier three are not repeated.
      const later = await db.transaction((tx) => events.emit(tx, 'booking.reminder', reminder()));
      await relay.idle();
      expect(await relay.flush()).toBe(0);
      expect(await broker.eventIds()).toEqual([...ids, later.event_id].sort());
    } finally {
      await relay.stop();
      await dispose();
    }
  });
});
