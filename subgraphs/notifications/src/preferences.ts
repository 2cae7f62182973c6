import { badInput, type Queryable } from '@fitsync/service-kit';
import { timeToSeconds } from '@fitsync/service-kit/clock';
import { z } from 'zod';
import type { NotificationChannel, NotificationKind, NotificationType } from './__generated__/resolvers-types.js';

export const KINDS = ['BOOKINGS', 'REMINDERS', 'PROGRAMS', 'PROGRESS', 'ACCOUNT'] as const satisfies readonly NotificationKind[];

/** The kind each notification type belongs to: preferences are chosen per kind. */
export const KIND_OF: Record<NotificationType, NotificationKind> = {
  BOOKING_CREATED: 'BOOKINGS',
  BOOKING_CANCELLED: 'BOOKINGS',
  BOOKING_COMPLETED: 'BOOKINGS',
  BOOKING_RESCHEDULED: 'BOOKINGS',
  BOOKING_REMINDER: 'REMINDERS',
  PROGRAM_ASSIGNED: 'PROGRAMS',
  PROGRAM_COMPLETED: 'PROGRAMS',
  PROGRAM_UPDATED: 'PROGRAMS',
  ACHIEVEMENT_EARNED: 'PROGRESS',
  MILESTONE_REACHED: 'PROGRESS',
  PROGRESS_UPDATED: 'PROGRESS',
  PROFILE_UPDATED: 'ACCOUNT',
  COACHING_REQUESTED: 'ACCOUNT',
  COACHING_ACCEPTED: 'ACCOUNT',
  COACHING_ENDED: 'ACCOUNT',
  TRAINER_APPROVED: 'ACCOUNT',
};

/**
 * Email unless the user chose otherwise: what happens to their sessions (bookings,
 * cancellations, reminders), their programs and their account reach them by email; progress
 * (measurements they recorded themselves, achievements, milestones) stays in the app.
 */
export const DEFAULT_EMAIL: Record<NotificationKind, boolean> = {
  BOOKINGS: true,
  REMINDERS: true,
  PROGRAMS: true,
  PROGRESS: false,
  ACCOUNT: true,
};

export interface Preferences {
  userId: string;
  email: Record<NotificationKind, boolean>;
  quietHours: { start: string; end: string } | null;
}

/** The preferences of users, defaults filled in; one statement per table for all of them. */
export async function preferencesOf(q: Queryable, userIds: readonly string[]): Promise<Map<string, Preferences>> {
  const [choices, quiet] = await Promise.all([
    q.query<{ user_id: string; kind: NotificationKind; email: boolean }>(
      'SELECT user_id, kind, email FROM notification_preferences WHERE user_id = ANY($1::uuid[])',
      [userIds],
    ),
    q.query<{ user_id: string; starts: string; ends: string }>(
      `SELECT user_id, to_char(starts, 'HH24:MI') AS starts, to_char(ends, 'HH24:MI') AS ends FROM quiet_hours WHERE user_id = ANY($1::uuid[])`,
      [userIds],
    ),
  ]);
  const out = new Map<string, Preferences>(userIds.map((id) => [id, { userId: id, email: { ...DEFAULT_EMAIL }, quietHours: null }]));
  for (const c of choices) out.get(c.user_id)!.email[c.kind] = c.email;
  for (const h of quiet) out.get(h.user_id)!.quietHours = { start: h.starts, end: h.ends };
  return out;
}

export const channelsOf = (prefs: Preferences, kind: NotificationKind): NotificationChannel[] => (prefs.email[kind] ? ['IN_APP', 'EMAIL'] : ['IN_APP']);

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day HH:MM (00:00 to 23:59)');

/** Checks an update before anything is written: one entry per kind, quiet hours as HH:MM that differ. */
export function parsePreferenceUpdate(input: {
  kinds?: readonly { kind: NotificationKind; channels: readonly NotificationChannel[] }[] | null;
  quietHours?: { start: string; end: string } | null;
}): { email: Partial<Record<NotificationKind, boolean>>; quietHours: { start: string; end: string } | null | undefined } {
  const email: Partial<Record<NotificationKind, boolean>> = {};
  for (const [i, k] of (input.kinds ?? []).entries()) {
    if (k.kind in email) throw badInput(`kinds.${i}.kind: ${k.kind} is listed twice`, `kinds.${i}.kind`);
    email[k.kind] = k.channels.includes('EMAIL');
  }
  let quietHours = input.quietHours;
  if (quietHours) {
    for (const field of ['start', 'end'] as const) {
      const parsed = HHMM.safeParse(quietHours[field]);
      if (!parsed.success) throw badInput(`quietHours.${field}: ${parsed.error.issues[0].message}`, `quietHours.${field}`);
    }
    if (quietHours.start === quietHours.end) throw badInput('quietHours: start and end must differ', 'quietHours');
    quietHours = { start: quietHours.start, end: quietHours.end };
  }
  return { email, quietHours };
}

/** Writes an update checked by parsePreferenceUpdate, in the caller's transaction. */
export async function writePreferences(tx: Queryable, userId: string, update: ReturnType<typeof parsePreferenceUpdate>, at: Date): Promise<void> {
  const rows = Object.entries(update.email).map(([kind, email]) => ({ kind, email }));
  if (rows.length > 0) {
    await tx.query(
      `INSERT INTO notification_preferences (user_id, kind, email, updated_at)
       SELECT $1, kind, email, $3 FROM jsonb_to_recordset($2::jsonb) AS r(kind text, email boolean)
       ON CONFLICT (user_id, kind) DO UPDATE SET email = EXCLUDED.email, updated_at = EXCLUDED.updated_at`,
      [userId, JSON.stringify(rows), at],
    );
  }
  if (update.quietHours === null) await tx.query('DELETE FROM quiet_hours WHERE user_id = $1', [userId]);
  else if (update.quietHours) {
    await tx.query(
      `INSERT INTO quiet_hours (user_id, starts, ends, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET starts = EXCLUDED.starts, ends = EXCLUDED.ends, updated_at = EXCLUDED.updated_at`,
      [userId, update.quietHours.start, update.quietHours.end, at],
    );
  }
  // Mail held by quiet hours that no longer hold it is due now.
  if (update.quietHours !== undefined) {
    await tx.query(
      `UPDATE deliveries SET next_attempt_at = $2 WHERE recipient_id = $1 AND status = 'QUEUED' AND channel = 'EMAIL' AND attempts = 0 AND next_attempt_at > $2`,
      [userId, at],
    );
  }
}

/**
 * When quiet hours that hold `now` end (gym time), or null when they do not hold it.
 * Both ends are wall-clock times; an end before the start runs past midnight.
 */
export function quietUntil(quietHours: Preferences['quietHours'], now: Date): Date | null {
  if (!quietHours) return null;
  const secondsNow = now.getHours() * 3600 + now.getMinutes() * 60 + now.getSeconds();
  const start = timeToSeconds(quietHours.start);
  const end = timeToSeconds(quietHours.end);
  const inside = start < end ? secondsNow >= start && secondsNow < end : secondsNow >= start || secondsNow < end;
  if (!inside) return null;
  const [h, m] = quietHours.end.split(':').map(Number);
  const until = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, m, 0, 0);
  if (until.getTime() <= now.getTime()) until.setDate(until.getDate() + 1);
  return until;
}
