import { badInput, conflict } from '@fitsync/service-kit';
import { fullTime, type GymTime } from '@fitsync/service-kit/clock';
import type { BookingRow, BookingStatus } from './db.js';

/** A slot a booking may take: a real day and times, end after start, not already begun. */
export function checkSlot(slot: { date: string; startTime: string; endTime: string }, now: GymTime) {
  const startTime = fullTime(slot.startTime);
  const endTime = fullTime(slot.endTime);
  if (endTime <= startTime) throw badInput('endTime must be after startTime', 'endTime');
  if (slot.date < now.date || (slot.date === now.date && startTime <= now.time)) {
    throw badInput(`A booking cannot start in the past (the gym's time is ${now.date} ${now.time})`, 'date');
  }
  return { date: slot.date, startTime, endTime };
}

/** Bookings still to happen: the only ones that may be cancelled, moved or completed. */
const OPEN: BookingStatus[] = ['PENDING', 'CONFIRMED'];

const PAST_TENSE = { cancel: 'cancelled', reschedule: 'rescheduled', complete: 'completed', markNoShow: 'marked a no-show' };

/** PENDING/CONFIRMED -> CANCELLED, COMPLETED, NO_SHOW, or moved; anything else is CONFLICT. */
export function assertOpen(booking: BookingRow, action: 'cancel' | 'reschedule' | 'complete' | 'markNoShow') {
  if (!OPEN.includes(booking.status)) {
    throw conflict(`A ${booking.status.toLowerCase()} booking cannot be ${PAST_TENSE[action]}`, 'ILLEGAL_TRANSITION');
  }
}
