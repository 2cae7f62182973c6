import type { EventHandlers } from '@fitsync/events';
import { bookingLiveHandlers } from './booking-changes.js';
import { onCoachingEnded } from './coaching-ended.js';

/**
 * What schedule does with events: its own booking.* events, once committed, become
 * bookingChanged messages for live subscribers; training's coaching.ended cancels the
 * pair's future bookings. (It also produces booking.reminder: reminders.ts, started as
 * the service's background work.)
 */
export const scheduleHandlers = { ...bookingLiveHandlers, 'coaching.ended': onCoachingEnded } satisfies EventHandlers;
