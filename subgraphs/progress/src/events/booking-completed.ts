import { randomUUID } from 'node:crypto';
import type { EventHandler } from '@fitsync/events';

/**
 * A completed session becomes a workout log stub the client fills in later
 * (`updateWorkoutLog`). `booking_id` is unique: a booking never gets two logs.
 */
export const onBookingCompleted: EventHandler<'booking.completed'> = async ({ data }, { tx, log }) => {
  const [created] = await tx.query<{ id: string }>(
    `INSERT INTO workout_logs (id, client_id, trainer_id, booking_id, program_id, workout_date, duration_minutes, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'STUB')
     ON CONFLICT (booking_id) DO NOTHING
     RETURNING id`,
    [randomUUID(), data.client_id, data.trainer_id, data.booking_id, data.program_id, data.workout_date, data.duration_minutes],
  );
  if (created) log.info({ workout_log_id: created.id, booking_id: data.booking_id }, 'workout log stub created');
  else log.info({ booking_id: data.booking_id }, 'booking already has a workout log; nothing to do');
};
