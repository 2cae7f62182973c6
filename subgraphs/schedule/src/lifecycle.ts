import { conflict } from '@fitsync/service-kit';
import type { GymTime } from '@fitsync/service-kit/clock';
import type { BookingRow, BookingStatus } from './store.js';

/** What may happen to a booking once it is made. */
export type BookingAction = 'cancel' | 'reschedule' | 'complete' | 'markNoShow';

/** Bookings still to happen: the only ones that may be cancelled, moved or completed. */
const OPEN: BookingStatus[] = ['PENDING', 'CONFIRMED'];

const PAST_TENSE: Record<BookingAction, string> = { cancel: 'cancelled', reschedule: 'rescheduled', complete: 'completed', markNoShow: 'marked a no-show' };

/** PENDING/CONFIRMED -> CANCELLED, COMPLETED, NO_SHOW, or moved; anything else is CONFLICT. */
export function assertOpen(booking: BookingRow, action: BookingAction): void {
  if (!OPEN.includes(booking.status)) {
    throw conflict(`A ${booking.status.toLowerCase()} booking cannot be ${PAST_TENSE[action]}`, 'ILLEGAL_TRANSITION');
  }
}

/** A session is completed on its day or later. */
export function assertHeldBy(booking: BookingRow, now: GymTime): void {
  if (booking.date > now.date) throw conflict(`A session on ${booking.date} cannot be completed before that day`, 'NOT_YET_HELD');
}

/** A session is a no-show only once it has started. */
export function assertStartedBy(booking: BookingRow, now: GymTime): void {
  if (booking.date > now.date || (booking.date === now.date && booking.start_time > now.time))
    throw conflict('A session that has not started cannot be a no-show', 'NOT_YET_HELD');
}
