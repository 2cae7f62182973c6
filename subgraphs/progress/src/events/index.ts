import type { EventHandlers } from '@fitsync/events';
import { onBookingCompleted } from './booking-completed.js';
import { onProgramCompleted } from './program-completed.js';

/** What progress does with other services' events (it publishes achievement.earned, milestone.reached, progress.updated). */
export const progressHandlers: EventHandlers = {
  'booking.completed': onBookingCompleted,
  'program.completed': onProgramCompleted,
};
