import type { EventHandlers } from '@fitsync/events';
import { bookingLiveHandlers } from './booking-changes.js';

/**
 * What schedule does with events: its own booking.* events, once committed, become
 * bookingChanged messages for live subscribers. (It also produces booking.reminder:
 * reminders.ts, started as the service's background work.)
 */
export const scheduleHandlers = { ...bookingLiveHandlers } satisfies EventHandlers;
