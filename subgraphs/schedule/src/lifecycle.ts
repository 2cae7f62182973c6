import { conflict } from '@fitsync/service-kit';
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
