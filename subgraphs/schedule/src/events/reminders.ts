import { randomUUID } from 'node:crypto';
import { writeEvent } from '@fitsync/events';
import type { Database, Logger } from '@fitsync/service-kit';
import { gymInstant, gymTime, type Clock } from '@fitsync/service-kit/clock';

/** How long before a session its reminder goes out. */
export const REMINDER_LEAD_HOURS = 24;
/** Bookings reminded per transaction; a run takes batches until none is due. */
const BATCH = 200;
const HOUR = 3_600_000;

interface DueBooking {
  id: string;
  client_id: string;
  trainer_id: string;
  date: string;
  start_time: string;
}

/**
 * Open bookings (pending or confirmed) that start after `now` and no later than
 * `due`, not reminded yet. Both bounds are the gym's wall-clock day and time, like
 * the bookings. SKIP LOCKED lets two replicas scan at once, each taking other rows;
 * a row another replica stamped in the meantime fails the re-checked WHERE.
 */
const DUE_SQL = `
SELECT id, client_id, trainer_id, date, start_time::text AS start_time
FROM bookings
WHERE reminder_sent_at IS NULL
  AND status IN ('PENDING', 'CONFIRMED')
  AND (date, start_time) > ($1::date, $2::time)
  AND (date, start_time) <= ($3::date, $4::time)
ORDER BY date, start_time, id
LIMIT $5
FOR UPDATE SKIP LOCKED`;

export interface ReminderRun {
  jobId: string;
  /** Bookings reminded by this run. */
  reminded: number;
}

/**
 * One scheduler run: in each transaction, locks a batch of due bookings, writes one
 * `booking.reminder` per booking into the outbox and stamps `reminder_sent_at`.
 * The outbox row and the stamp commit together, so a reminder is written exactly
 * once, whatever crashes or how many replicas run. A booking made less than 24 hours
 * ahead is due at once, so it is reminded by the next run.
 */
export async function sendDueReminders(db: Database, opts: { log: Logger; now: Date }): Promise<ReminderRun> {
  const { now } = opts;
  const jobId = randomUUID();
  const log = opts.log.child({ job: 'booking-reminders', correlation_id: jobId });
  const from = gymTime(now);
  const to = gymTime(new Date(now.getTime() + REMINDER_LEAD_HOURS * HOUR));
  let reminded = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const due = await tx.query<DueBooking>(DUE_SQL, [from.date, from.time, to.date, to.time, BATCH]);
      for (const b of due) {
        const hoursUntil = Math.round(((gymInstant(b.date, b.start_time).getTime() - now.getTime()) / HOUR) * 10) / 10;
        const envelope = await writeEvent(
          tx,
          'booking.reminder',
          { booking_id: b.id, client_id: b.client_id, trainer_id: b.trainer_id, booking_date: b.date, start_time: b.start_time, hours_until: hoursUntil },
          { source: 'schedule', correlationId: jobId, now },
        );
        log.info({ event_id: envelope.event_id, event: envelope.event, booking_id: b.id, hours_until: hoursUntil }, 'booking reminder written');
      }
      if (due.length > 0) await tx.query('UPDATE bookings SET reminder_sent_at = $2 WHERE id = ANY($1::uuid[])', [due.map((b) => b.id), now]);
      return due.length;
    });
    reminded += batch;
    if (batch < BATCH) break;
  }
  if (reminded > 0) log.info({ reminded }, 'booking reminders sent');
  return { jobId, reminded };
}

export interface ReminderScheduler {
  /** Stops the timer and waits for a run in progress. */
  close(): Promise<void>;
}

/**
 * Runs `sendDueReminders` now and then every `intervalMs` (one run at a time; a failed
 * run is logged and retried at the next tick). Nothing is kept in memory between runs:
 * what is due and what was sent live in the database, so a restart simply carries on.
 */
export function startReminderScheduler(opts: { db: Database; log: Logger; intervalMs: number; clock: Clock }): ReminderScheduler {
  const { db, intervalMs, clock } = opts;
  const log = opts.log.child({ job: 'booking-reminders' });
  if (intervalMs <= 0) {
    log.info('booking reminder scheduler off (REMINDER_INTERVAL_MS=0)');
    return { close: async () => undefined };
  }
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sendDueReminders(db, { log: opts.log, now: clock() })
      .then(
        () => undefined,
        (err: unknown) => log.error({ err }, 'booking reminder run failed; retrying at the next tick'),
      )
      .finally(() => {
        if (!closed) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  timer = setTimeout(tick, 0).unref();
  log.info({ interval_ms: intervalMs }, 'booking reminder scheduler started');
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
