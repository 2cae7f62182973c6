import type { EventHandler } from '@fitsync/events';
import { clock, day, sentence, sessionKind, timeRange } from './format.js';
import { notify } from './notify.js';

/** Both parties hear about a new session. */
export const onBookingCreated: EventHandler<'booking.created'> = async (event, ctx) => {
  const d = event.data;
  const when = `${day(d.booking_date, event.timestamp)}, ${timeRange(d.start_time, d.end_time)}`;
  const kind = sessionKind(d.type);
  const booking_id = d.booking_id;
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'BOOKING_CREATED',
      title: 'Session booked',
      message: `Your ${kind} is booked for ${when}.`,
      booking_id,
      program_id: d.program_id,
    },
    {
      recipient_id: d.trainer_id,
      type: 'BOOKING_CREATED',
      title: 'New session booked',
      message: `A ${kind} with your client is booked for ${when}.`,
      booking_id,
      program_id: d.program_id,
    },
  ]);
};

/** The party who cancelled knows; the other one is told (both when the gym cancelled). */
export const onBookingCancelled: EventHandler<'booking.cancelled'> = async (event, ctx) => {
  const d = event.data;
  const when = `${day(d.booking_date, event.timestamp)} at ${clock(d.start_time)}`;
  const reason = d.cancellation_reason?.trim() ? ` Reason: ${sentence(d.cancellation_reason)}` : '';
  const byClient = d.cancelled_by === d.client_id;
  const byTrainer = d.cancelled_by === d.trainer_id;
  const notice = (recipient_id: string, by: string) => ({
    recipient_id,
    type: 'BOOKING_CANCELLED' as const,
    title: 'Session cancelled',
    message: `Your session on ${when} was cancelled by ${by}.${reason}`,
    booking_id: d.booking_id,
  });
  await notify(event, ctx, [
    ...(byClient ? [] : [notice(d.client_id, byTrainer ? 'your trainer' : 'the gym')]),
    ...(byTrainer ? [] : [notice(d.trainer_id, byClient ? 'your client' : 'the gym')]),
  ]);
};

/** The trainer completed it; the client is asked to fill in the workout log progress created. */
export const onBookingCompleted: EventHandler<'booking.completed'> = async (event, ctx) => {
  const d = event.data;
  const notes = d.trainer_notes?.trim() ? ` Your trainer's notes: "${d.trainer_notes.trim()}"` : '';
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'BOOKING_COMPLETED',
      title: 'Session completed',
      message: `Well done: your ${d.duration_minutes}-minute session on ${day(d.workout_date, event.timestamp)} is complete.${notes} Add your exercises and how it felt to your workout log.`,
      booking_id: d.booking_id,
      program_id: d.program_id,
    },
  ]);
};

const inHours = (hours: number) => (hours < 1 ? 'in less than an hour' : `in ${Math.round(hours)} hour${Math.round(hours) === 1 ? '' : 's'}`);

/** The 24-hour reminder, to both parties. */
export const onBookingReminder: EventHandler<'booking.reminder'> = async (event, ctx) => {
  const d = event.data;
  const when = `${inHours(d.hours_until)}, on ${day(d.booking_date, event.timestamp)} at ${clock(d.start_time)}`;
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'BOOKING_REMINDER',
      title: 'Upcoming session',
      message: `Reminder: your session starts ${when}.`,
      booking_id: d.booking_id,
    },
    {
      recipient_id: d.trainer_id,
      type: 'BOOKING_REMINDER',
      title: 'Upcoming session',
      message: `Reminder: your session with your client starts ${when}.`,
      booking_id: d.booking_id,
    },
  ]);
};

/** Both parties see the old and the new time. */
export const onBookingRescheduled: EventHandler<'booking.rescheduled'> = async (event, ctx) => {
  const d = event.data;
  const message = `Your session on ${day(d.old_date, event.timestamp)} at ${clock(d.old_start_time)} has moved to ${day(d.new_date, event.timestamp)}, ${timeRange(d.new_start_time, d.new_end_time)}.`;
  await notify(
    event,
    ctx,
    [d.client_id, d.trainer_id].map((recipient_id) => ({
      recipient_id,
      type: 'BOOKING_RESCHEDULED' as const,
      title: 'Session rescheduled',
      message,
      booking_id: d.booking_id,
    })),
  );
};
