import { forbidden, isAdmin, isParty, type Viewer } from '@fitsync/service-kit';
import type { BookingAction } from './lifecycle.js';
import type { BookingRow } from './store.js';

/** A booking's client, its trainer and admins see it. */
export function assertCanSeeBooking(viewer: Viewer, booking: BookingRow, message = 'Only the client, the trainer and admins can see a booking'): BookingRow {
  if (!isParty(viewer, booking)) throw forbidden(message);
  return booking;
}

/** Clients book for themselves, trainers for their own schedule; admins for anyone. */
export function assertCanBook(viewer: Viewer, clientId: string, trainerId: string): void {
  if (!isAdmin(viewer) && viewer.id !== clientId && viewer.id !== trainerId) throw forbidden('Clients book for themselves, trainers for their own schedule');
}

/** Either party cancels or moves a session; only its trainer (or an admin) says how it went. */
const RUNS_SESSION = (viewer: Viewer, b: BookingRow) => isAdmin(viewer) || viewer.id === b.trainer_id;
const MAY: Record<BookingAction, (viewer: Viewer, b: BookingRow) => boolean> = {
  cancel: isParty,
  reschedule: isParty,
  complete: RUNS_SESSION,
  markNoShow: RUNS_SESSION,
};
const VERB: Record<BookingAction, string> = { cancel: 'cancel', reschedule: 'reschedule', complete: 'complete', markNoShow: 'mark as a no-show' };

export function assertCanChangeBooking(viewer: Viewer, booking: BookingRow, action: BookingAction): void {
  if (!MAY[action](viewer, booking)) throw forbidden(`You may not ${VERB[action]} this booking`);
}
