import type { EventHandlers } from '@fitsync/events';
import { onBookingCancelled, onBookingCompleted, onBookingCreated, onBookingReminder, onBookingRescheduled } from './bookings.js';
import { onCoachingAccepted, onCoachingEnded, onCoachingRequested, onTrainerApproved } from './coaching.js';
import { onProgramAssigned, onProgramCompleted, onProgramUpdated } from './programs.js';
import { onAchievementEarned, onMilestoneReached, onProgressUpdated } from './progress.js';
import { onUserUpdated } from './users.js';

/** Every channel of the catalog becomes in-app notifications (notifications publishes no domain events). */
export const notificationHandlers = {
  'booking.created': onBookingCreated,
  'booking.cancelled': onBookingCancelled,
  'booking.completed': onBookingCompleted,
  'booking.reminder': onBookingReminder,
  'booking.rescheduled': onBookingRescheduled,
  'program.assigned': onProgramAssigned,
  'program.completed': onProgramCompleted,
  'program.updated': onProgramUpdated,
  'achievement.earned': onAchievementEarned,
  'milestone.reached': onMilestoneReached,
  'progress.updated': onProgressUpdated,
  'user.updated': onUserUpdated,
  'coaching.requested': onCoachingRequested,
  'coaching.accepted': onCoachingAccepted,
  'coaching.ended': onCoachingEnded,
  'trainer.approved': onTrainerApproved,
} satisfies Required<EventHandlers>;
