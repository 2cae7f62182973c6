import { z } from 'zod';

/**
 * The domain events of FitSync: the channel catalog of the REST + pub/sub plan this
 * graph replaces, plus `user.updated` and the consent events (`coaching.*`, `trainer.approved`). Payload keys stay snake_case as in that plan:
 * the envelope is the wire format between services, not part of the GraphQL API.
 * Each payload is validated when written and again when consumed.
 */

const id = z.uuid();
const date = z.iso.date();
const time = z.string().regex(/^\d{2}:\d{2}(:\d{2})?$/, 'HH:MM or HH:MM:SS');
const bookingType = z.enum(['ONE_ON_ONE', 'GROUP', 'ASSESSMENT', 'VIRTUAL']);
const bookingParties = { booking_id: id, client_id: id, trainer_id: id };
const programParties = { program_id: id, client_id: id, trainer_id: id };
const coachingParties = { coaching_id: id, client_id: id, trainer_id: id };
const metricValues = z.record(z.string(), z.number());

export const EVENT_CATALOG = {
  'booking.created': {
    publisher: 'schedule',
    data: z.object({
      ...bookingParties,
      program_id: id.nullable(),
      gym_id: id,
      booking_date: date,
      start_time: time,
      end_time: time,
      type: bookingType,
    }),
  },
  'booking.cancelled': {
    publisher: 'schedule',
    data: z.object({
      ...bookingParties,
      booking_date: date,
      start_time: time,
      cancellation_reason: z.string().nullable(),
      cancelled_by: id,
    }),
  },
  'booking.completed': {
    publisher: 'schedule',
    data: z.object({
      ...bookingParties,
      program_id: id.nullable(),
      workout_date: date,
      start_time: time,
      end_time: time,
      duration_minutes: z.number().int().positive(),
      trainer_notes: z.string().nullable(),
    }),
  },
  'booking.reminder': {
    publisher: 'schedule',
    data: z.object({ ...bookingParties, booking_date: date, start_time: time, hours_until: z.number() }),
  },
  'booking.rescheduled': {
    publisher: 'schedule',
    data: z.object({
      ...bookingParties,
      old_date: date,
      old_start_time: time,
      old_end_time: time,
      new_date: date,
      new_start_time: time,
      new_end_time: time,
    }),
  },
  'program.assigned': {
    publisher: 'training',
    data: z.object({
      ...programParties,
      name: z.string(),
      workout_plan_id: id.nullable(),
      diet_plan_id: id.nullable(),
      start_date: date,
      duration_weeks: z.number().int().positive(),
    }),
  },
  'program.completed': {
    publisher: 'training',
    data: z.object({
      ...programParties,
      name: z.string(),
      completion_date: date,
      adherence_rate: z.number().min(0).max(1).nullable(),
    }),
  },
  'program.updated': {
    publisher: 'training',
    data: z.object({ ...programParties, name: z.string(), changes: z.array(z.string()).min(1) }),
  },
  'achievement.earned': {
    publisher: 'progress',
    data: z.object({
      achievement_id: id,
      client_id: id,
      program_id: id.nullable(),
      type: z.string(),
      title: z.string(),
      description: z.string().nullable(),
      badge_icon: z.string().nullable(),
    }),
  },
  'milestone.reached': {
    publisher: 'progress',
    data: z.object({
      client_id: id,
      goal_id: id.nullable(),
      milestone_type: z.string(),
      metric: z.string(),
      target_value: z.number(),
      achieved_value: z.number(),
      previous_value: z.number().nullable(),
    }),
  },
  'progress.updated': {
    publisher: 'progress',
    data: z.object({
      client_id: id,
      metric_type: z.string(),
      new_value: metricValues,
      change_from_last: metricValues,
    }),
  },
  'user.updated': {
    publisher: 'users',
    data: z.object({ user_id: id, changes: z.array(z.string()).min(1) }),
  },
  // Consent: who trains whom (training), and which self-registered trainers an admin approved (users).
  'coaching.requested': {
    publisher: 'training',
    data: z.object({ ...coachingParties, requested_by: id }),
  },
  'coaching.accepted': {
    publisher: 'training',
    data: z.object({ ...coachingParties, accepted_by: id }),
  },
  'coaching.ended': {
    publisher: 'training',
    data: z.object({
      ...coachingParties,
      ended_by: id,
      // DECLINED: a request that was never accepted; ENDED: an accepted relationship (access ends with it).
      outcome: z.enum(['DECLINED', 'ENDED']),
      // Open programs of the pair that ending it cancelled (each also has its program.updated).
      cancelled_program_ids: z.array(id),
    }),
  },
  'trainer.approved': {
    publisher: 'users',
    data: z.object({ trainer_id: id, approved_by: id }),
  },
} as const satisfies Record<string, { publisher: string; data: z.ZodType }>;

export type Channel = keyof typeof EVENT_CATALOG;
export const CHANNELS = Object.keys(EVENT_CATALOG) as Channel[];
export type EventData<C extends Channel> = z.infer<(typeof EVENT_CATALOG)[C]['data']>;

export const isChannel = (name: string): name is Channel => Object.hasOwn(EVENT_CATALOG, name);
