import type { EventHandler } from '@fitsync/events';
import { gymTime } from '@fitsync/service-kit/clock';
import { cancelFutureBookingsOf, lockUsers, recordEndedCoaching } from '../writes.js';

export const COACHING_ENDED_REASON = 'Coaching ended';

/**
 * When a coaching relationship ends, the pair's sessions from then on are cancelled, each
 * with its usual `booking.cancelled` (notifications, live messages) in the same transaction.
 * "From then on" is the moment it ended (the event's time, on training's clock), not
 * whenever this consumer gets to it. Handling the event again finds nothing open to cancel.
 */
export const onCoachingEnded: EventHandler<'coaching.ended'> = async (event, { tx, events, log }) => {
  const d = event.data;
  if (d.outcome !== 'ENDED') return;
  // The locks createBooking takes: a booking of the pair being written now commits first, and is cancelled here too.
  await lockUsers(tx, [d.client_id, d.trainer_id]);
  // A booking whose check with training came before the end, but whose transaction comes after this one, is refused by it.
  await recordEndedCoaching(tx, { coachingId: d.coaching_id, clientId: d.client_id, trainerId: d.trainer_id, endedAt: event.timestamp });
  const cancelled = await cancelFutureBookingsOf(tx, { clientId: d.client_id, trainerId: d.trainer_id }, gymTime(new Date(event.timestamp)), {
    reason: COACHING_ENDED_REASON,
    by: d.ended_by,
  });
  for (const b of cancelled)
    await events.emit(tx, 'booking.cancelled', {
      booking_id: b.id,
      client_id: b.client_id,
      trainer_id: b.trainer_id,
      booking_date: b.date,
      start_time: b.start_time,
      cancellation_reason: COACHING_ENDED_REASON,
      cancelled_by: d.ended_by,
    });
  log.info({ coaching_id: d.coaching_id, cancelled: cancelled.length }, 'future bookings of an ended coaching relationship cancelled');
};
