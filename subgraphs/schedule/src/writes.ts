import { conflict, updateById, type Queryable } from '@fitsync/service-kit';
import type { BookingRow, BookingType } from './store.js';
import { BOOKING_COLUMNS } from './store.js';

// The SQL that changes bookings. Mutations run it in their transaction (`tx`), with the locks and checks that decide a change.

/**
 * Serialises bookings of the same people: a transaction-scoped advisory lock per user,
 * taken in id order (no deadlock between two bookings of the same pair), held until
 * commit. The overlap check and the insert that follow are then safe from a concurrent
 * booking of either user, on Postgres with many connections as on PGlite.
 */
export async function lockUsers(tx: Queryable, userIds: string[]) {
  for (const id of [...new Set(userIds)].sort()) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`fitsync:booking-user:${id}`]);
  }
}

/** CONFLICT when either user has another booking, not cancelled, that overlaps the slot. */
export async function assertNoOverlap(
  tx: Queryable,
  slot: { clientId: string; trainerId: string; date: string; startTime: string; endTime: string; exceptId?: string },
) {
  const [clash] = await tx.query<{ id: string; trainer_clash: boolean }>(
    `SELECT id, trainer_id = $2::uuid AS trainer_clash FROM bookings
     WHERE (client_id = $1::uuid OR trainer_id = $2::uuid OR client_id = $2::uuid OR trainer_id = $1::uuid)
       AND date = $3::date AND start_time < $5::time AND end_time > $4::time
       AND status NOT IN ('CANCELLED') AND ($6::uuid IS NULL OR id <> $6::uuid)
     LIMIT 1`,
    [slot.clientId, slot.trainerId, slot.date, slot.startTime, slot.endTime, slot.exceptId ?? null],
  );
  if (clash) {
    const who = clash.trainer_clash ? 'The trainer' : 'The client';
    throw conflict(`${who} already has a booking at that time (${clash.id})`, 'OVERLAP');
  }
}

export async function insertBooking(
  tx: Queryable,
  b: {
    id: string;
    clientId: string;
    trainerId: string;
    programId: string;
    gymId: string;
    date: string;
    startTime: string;
    endTime: string;
    type: BookingType;
    notes: string | null;
  },
): Promise<BookingRow> {
  const [row] = await tx.query<BookingRow>(
    `INSERT INTO bookings (id, client_id, trainer_id, program_id, gym_id, date, start_time, end_time, type, status, notes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'CONFIRMED', $10) RETURNING ${BOOKING_COLUMNS}`,
    [b.id, b.clientId, b.trainerId, b.programId, b.gymId, b.date, b.startTime, b.endTime, b.type, b.notes],
  );
  return row;
}

/** The booking, locked for the rest of the transaction; null when there is none. */
export async function lockBooking(tx: Queryable, id: string): Promise<BookingRow | null> {
  const [row] = await tx.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE`, [id]);
  return row ?? null;
}

/** Sets the given columns and `updated_at`, returning the row. */
export async function updateBooking(tx: Queryable, id: string, set: Partial<Record<keyof BookingRow, unknown>>): Promise<BookingRow> {
  const row = await updateById<BookingRow>(tx, 'bookings', id, set, BOOKING_COLUMNS);
  if (!row) throw conflict('The booking changed meanwhile');
  return row;
}

/**
 * Cancels the pair's open (pending or confirmed) bookings that start after the gym-local
 * `date` and `time`; returns them as they are now. Past and finished bookings stay.
 */
export async function cancelFutureBookingsOf(
  tx: Queryable,
  pair: { clientId: string; trainerId: string },
  after: { date: string; time: string },
  why: { reason: string; by: string },
): Promise<BookingRow[]> {
  return tx.query<BookingRow>(
    `UPDATE bookings SET status = 'CANCELLED', cancellation_reason = $5, cancelled_by = $6, updated_at = now()
     WHERE client_id = $1 AND trainer_id = $2 AND status IN ('PENDING', 'CONFIRMED') AND (date, start_time) > ($3::date, $4::time)
     RETURNING ${BOOKING_COLUMNS}`,
    [pair.clientId, pair.trainerId, after.date, after.time, why.reason, why.by],
  );
}

/** Remembers that training ended a relationship (once: the event may come again). */
export async function recordEndedCoaching(tx: Queryable, c: { coachingId: string; clientId: string; trainerId: string; endedAt: string }): Promise<void> {
  await tx.query('INSERT INTO ended_coaching (coaching_id, client_id, trainer_id, ended_at) VALUES ($1, $2, $3, $4) ON CONFLICT (coaching_id) DO NOTHING', [
    c.coachingId,
    c.clientId,
    c.trainerId,
    c.endedAt,
  ]);
}

/** Whether training has reported this relationship ended. */
export async function coachingEnded(tx: Queryable, coachingId: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM ended_coaching WHERE coaching_id = $1', [coachingId])).length > 0;
}
