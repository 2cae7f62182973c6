import type { EventHandler } from '@fitsync/events';
import { insertWorkoutLogStub } from '../writes.js';

/**
 * A completed session becomes a workout log stub the client fills in later
 * (`updateWorkoutLog`). `booking_id` is unique: a booking never gets two logs.
 */
export const onBookingCompleted: EventHandler<'booking.completed'> = async ({ data }, { tx, log }) => {
  const created = await insertWorkoutLogStub(tx, data);
  if (created) log.info({ workout_log_id: created.id, booking_id: data.booking_id }, 'workout log stub created');
  else log.info({ booking_id: data.booking_id }, 'booking already has a workout log; nothing to do');
};
