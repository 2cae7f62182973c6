import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@fitsync/events';
import { createLogger, dropPostgresSchema, openDatabase, type Database } from '@fitsync/service-kit';
import { openTestDatabase, storageBackends, testConfig, uniqueSchemaPrefix, type StorageBackend } from '@fitsync/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gymTime, pinnedClock } from '@fitsync/service-kit/clock';
import { sendDueReminders } from '../events/reminders.js';
import { scheduleSubgraph, startSchedule } from '../server.js';

const HOUR = 3_600_000;
const log = createLogger('schedule', 'silent');
const NOW = new Date(2026, 10, 25, 10, 0, 0); // 25 November 2026, 10:00 gym time
const later = (hours: number, from = NOW) => new Date(from.getTime() + hours * HOUR);

/** A database that can be closed and opened again, as a restarted process would. */
function reopenable(backend: StorageBackend) {
  const schema = `${uniqueSchemaPrefix()}_schedule`;
  let dir: string | undefined;
  return {
    async open(): Promise<Database> {
      dir ??= await mkdtemp(join(tmpdir(), 'fitsync-reminders-'));
      return openDatabase({
        service: 'schedule',
        migrationsDir: scheduleSubgraph.migrationsDir,
        log,
        databaseUrl: backend === 'postgres' ? process.env.DATABASE_URL : undefined,
        schema,
        dataDir: dir,
        poolSize: 4,
      });
    },
    schema,
    async dispose() {
      if (backend === 'postgres') await dropPostgresSchema(process.env.DATABASE_URL!, schema);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each(storageBackends())('booking reminders on %s', (backend) => {
  const store = reopenable(backend);
  let db: Database;
  const extra: Database[] = [];

  beforeAll(async () => {
    db = await store.open();
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    await db?.close();
    await store.dispose();
  });

  /** A booking starting at `at` (gym time), one hour long. */
  async function book(at: Date, status = 'CONFIRMED') {
    const start = gymTime(at);
    const end = gymTime(later(1, at));
    const id = randomUUID();
    await db.query(
      `INSERT INTO bookings (id, client_id, trainer_id, gym_id, date, start_time, end_time, type, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'ONE_ON_ONE', $8)`,
      [id, randomUUID(), randomUUID(), randomUUID(), start.date, start.time, end.time, status],
    );
    return { id, date: start.date, start: start.time };
  }
  const remindersOf = async (bookingId: string, on = db) =>
    (
      await on.query<{ envelope: EventEnvelope<'booking.reminder'> }>(
        `SELECT envelope FROM event_outbox WHERE channel = 'booking.reminder' AND envelope->'data'->>'booking_id' = $1`,
        [bookingId],
      )
    ).map((r) => r.envelope);

  it('a booking 23 hours ahead gets exactly one reminder over several runs', async () => {
    const b = await book(later(23));
    const first = await sendDueReminders(db, { log, now: NOW });
    await sendDueReminders(db, { log, now: NOW });
    await sendDueReminders(db, { log, now: later(0.5) });
    await sendDueReminders(db, { log, now: later(22.9) });
    const reminders = await remindersOf(b.id);
    expect(reminders).toHaveLength(1);
    const [row] = await db.query<{ client_id: string; trainer_id: string; reminder_sent_at: Date }>(
      'SELECT client_id, trainer_id, reminder_sent_at FROM bookings WHERE id = $1',
      [b.id],
    );
    expect(reminders[0]).toMatchObject({
      event: 'booking.reminder',
      source: 'schedule',
      correlation_id: first.jobId,
      data: { booking_id: b.id, client_id: row.client_id, trainer_id: row.trainer_id, booking_date: '2026-11-26', start_time: '09:00:00', hours_until: 23 },
    });
    expect(row.reminder_sent_at).toEqual(NOW);
  });

  it('a booking 25 hours ahead is reminded once it is 24 hours away, not before', async () => {
    const b = await book(later(25));
    await sendDueReminders(db, { log, now: NOW });
    expect(await remindersOf(b.id)).toEqual([]);
    await sendDueReminders(db, { log, now: later(0.99) });
    expect(await remindersOf(b.id)).toEqual([]);
    await sendDueReminders(db, { log, now: later(1) });
    const reminders = await remindersOf(b.id);
    expect(reminders.map((r) => r.data.hours_until)).toEqual([24]);
  });

  it('a booking made less than 24 hours ahead is reminded at the next run', async () => {
    const b = await book(later(0.5));
    const run = await sendDueReminders(db, { log, now: NOW });
    expect(run.reminded).toBeGreaterThanOrEqual(1);
    expect((await remindersOf(b.id)).map((r) => r.data.hours_until)).toEqual([0.5]);
  });

  it('cancelled, completed and no-show bookings, and sessions already started, get none', async () => {
    const none = [
      await book(later(2), 'CANCELLED'),
      await book(later(3), 'COMPLETED'),
      await book(later(4), 'NO_SHOW'),
      await book(later(-1)),
      await book(NOW),
    ];
    const pending = await book(later(5), 'PENDING');
    await sendDueReminders(db, { log, now: NOW });
    for (const b of none) expect(await remindersOf(b.id), b.id).toEqual([]);
    expect(await remindersOf(pending.id)).toHaveLength(1);
  });

  it('a restarted scheduler (a new process on the same database) sends nothing again, and carries on with new bookings', async () => {
    const b = await book(later(20));
    await sendDueReminders(db, { log, now: NOW });
    const outboxBefore = await db.query('SELECT event_id FROM event_outbox ORDER BY seq');
    await db.close();
    db = await store.open();
    expect((await sendDueReminders(db, { log, now: later(0.1) })).reminded).toBe(0);
    expect(await db.query('SELECT event_id FROM event_outbox ORDER BY seq')).toEqual(outboxBefore);
    expect(await remindersOf(b.id)).toHaveLength(1);
    const next = await book(later(21));
    await sendDueReminders(db, { log, now: later(0.2) });
    expect(await remindersOf(next.id)).toHaveLength(1);
  });

  it('two schedulers running at the same time write one reminder per booking', async () => {
    // Postgres: two connection pools, as two schedule replicas on one database have.
    // PGlite has one owner per folder, so there the two share it and take turns.
    const other = backend === 'postgres' ? await store.open() : db;
    if (other !== db) extra.push(other);
    // Bookings other tests left unreminded (the REMINDER_INTERVAL_MS=0 one's) would be due in
    // these runs too: remind them first, so the runs below count exactly this test's bookings.
    await sendDueReminders(db, { log, now: later(0.01) });
    const due = await Promise.all(Array.from({ length: 450 }, (_, i) => book(later(1 + (i % 20) / 2))));
    const runs = await Promise.all([0, 1, 2, 3].map((i) => sendDueReminders(i % 2 ? other : db, { log, now: later(0.01) })));
    expect(runs.reduce((n, r) => n + r.reminded, 0)).toBe(due.length);
    const counts = await db.query<{ booking_id: string; n: number }>(
      `SELECT envelope->'data'->>'booking_id' AS booking_id, count(*)::int AS n FROM event_outbox
       WHERE channel = 'booking.reminder' AND envelope->'data'->>'booking_id' = ANY($1::text[]) GROUP BY 1`,
      [due.map((b) => b.id)],
    );
    expect(counts).toHaveLength(due.length);
    expect(counts.every((c) => c.n === 1)).toBe(true);
  });

  it('bookings hold the gym’s wall-clock time: 24 hours ahead is counted in the gym’s time zone', async () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const now = new Date('2026-11-25T15:00:00Z'); // 10:00 in New York
      const inside = await book(new Date('2026-11-26T14:00:00Z')); // 09:00 tomorrow there, 23 h ahead
      const outside = await book(new Date('2026-11-26T16:00:00Z')); // 11:00 tomorrow there, 25 h ahead
      expect(inside.start).toBe('09:00:00');
      await sendDueReminders(db, { log, now });
      expect((await remindersOf(inside.id)).map((r) => r.data.hours_until)).toEqual([23]);
      expect(await remindersOf(outside.id)).toEqual([]);
    } finally {
      process.env.TZ = tz;
    }
  });

  /** A booking in `on` starting `hours` after the clock's now (gym time). */
  async function bookOn(on: Database, clock: () => Date, hours: number) {
    const start = gymTime(later(hours, clock()));
    const end = gymTime(later(hours + 1, clock()));
    const id = randomUUID();
    await on.query(
      `INSERT INTO bookings (id, client_id, trainer_id, gym_id, date, start_time, end_time, type, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'ONE_ON_ONE', 'CONFIRMED')`,
      [id, randomUUID(), randomUUID(), randomUUID(), start.date, start.time, end.time],
    );
    return id;
  }

  /**
   * The positive control for "nothing ran": a second schedule service, on its own database,
   * with REMINDER_INTERVAL_MS=50, seen to complete two runs one after the other. While it did,
   * a scheduler that were still running would have had time for a run of its own too.
   */
  async function whileAnotherSchedulerRuns() {
    const control = await openTestDatabase('schedule', scheduleSubgraph.migrationsDir, backend);
    const clock = pinnedClock(NOW);
    const server = await startSchedule(testConfig('schedule', backend, uniqueSchemaPrefix(), { REMINDER_INTERVAL_MS: '50' }), { db: control.db, clock });
    try {
      const first = await bookOn(control.db, clock, 2);
      await vi.waitFor(async () => expect(await remindersOf(first, control.db)).toHaveLength(1), { timeout: 10_000 });
      const second = await bookOn(control.db, clock, 3);
      await vi.waitFor(async () => expect(await remindersOf(second, control.db)).toHaveLength(1), { timeout: 10_000 });
    } finally {
      await server.close();
      await control.dispose();
    }
  }

  it('the schedule service runs the scheduler every REMINDER_INTERVAL_MS on its clock, and stops it on close', async () => {
    const clock = pinnedClock(NOW);
    const b = await book(later(12));
    const farOff = await book(later(30));
    const server = await startSchedule(testConfig('schedule', backend, uniqueSchemaPrefix(), { REMINDER_INTERVAL_MS: '50' }), { db, clock });
    try {
      await vi.waitFor(async () => expect(await remindersOf(b.id)).toHaveLength(1), { timeout: 10_000 });
      expect(await remindersOf(farOff.id)).toEqual([]);
      // Time passes on the service's clock: the next runs find the booking now 24 hours away.
      clock.advance(7 * HOUR);
      await vi.waitFor(async () => expect(await remindersOf(farOff.id)).toHaveLength(1), { timeout: 10_000 });
    } finally {
      await server.close();
    }
    // Closed: no run touches the database any more, while a scheduler that runs is seen to run.
    const statements = db.stats.statements;
    await whileAnotherSchedulerRuns();
    expect(db.stats.statements).toBe(statements);
    expect(await remindersOf(b.id)).toHaveLength(1);
  });

  it('with REMINDER_INTERVAL_MS=0 (the test default) the service sends no reminder', async () => {
    const b = await book(later(2));
    const server = await startSchedule(testConfig('schedule', backend), { db, clock: pinnedClock(NOW) });
    try {
      await whileAnotherSchedulerRuns();
    } finally {
      await server.close();
    }
    expect(await remindersOf(b.id)).toEqual([]);
  });
});
