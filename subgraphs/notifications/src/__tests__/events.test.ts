import { randomUUID } from 'node:crypto';
import { CHANNELS, createEnvelope, type Channel, type EventData, type EventEnvelope, type EventHandler } from '@fitsync/events';
import type { Database } from '@fitsync/service-kit';
import { callSubgraph, handleEvent, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationRow } from '../store.js';
import { notificationHandlers } from '../events/index.js';
import { notificationsSubgraph, startNotifications } from '../server.js';

const { clock } = testClock();

const client = randomUUID();
const trainer = randomUUID();
const admin = randomUUID();
const booking = randomUUID();
const program = randomUUID();
const achievement = randomUUID();
// Events are stamped in 2026, so dates of that year are written without it.
const at = new Date('2026-11-25T10:30:00Z');

const event = <C extends Channel>(channel: C, data: EventData<C>): EventEnvelope<C> =>
  createEnvelope(channel, data, { source: 'test', correlationId: `req-${randomUUID()}`, now: at });

interface Expected {
  recipient_id: string;
  type: string;
  title: string;
  message: string;
  booking_id?: string | null;
  program_id?: string | null;
  achievement_id?: string | null;
}

/** Every channel with a representative event and the notifications a person would expect from it. */
const cases: { [C in Channel]: { data: EventData<C>; expected: Expected[] } } = {
  'booking.created': {
    data: {
      booking_id: booking,
      client_id: client,
      trainer_id: trainer,
      program_id: program,
      gym_id: randomUUID(),
      booking_date: '2026-11-27',
      start_time: '14:00:00',
      end_time: '15:00:00',
      type: 'ONE_ON_ONE',
    },
    expected: [
      {
        recipient_id: client,
        type: 'BOOKING_CREATED',
        title: 'Session booked',
        message: 'Your one-on-one session is booked for Friday 27 November, 14:00–15:00.',
        booking_id: booking,
        program_id: program,
      },
      {
        recipient_id: trainer,
        type: 'BOOKING_CREATED',
        title: 'New session booked',
        message: 'A one-on-one session with your client is booked for Friday 27 November, 14:00–15:00.',
        booking_id: booking,
        program_id: program,
      },
    ],
  },
  'booking.cancelled': {
    data: {
      booking_id: booking,
      client_id: client,
      trainer_id: trainer,
      booking_date: '2026-11-27',
      start_time: '14:00:00',
      cancellation_reason: 'Feeling unwell',
      cancelled_by: client,
    },
    expected: [
      {
        recipient_id: trainer,
        type: 'BOOKING_CANCELLED',
        title: 'Session cancelled',
        message: 'Your session on Friday 27 November at 14:00 was cancelled by your client. Reason: Feeling unwell.',
        booking_id: booking,
      },
    ],
  },
  'booking.completed': {
    data: {
      booking_id: booking,
      client_id: client,
      trainer_id: trainer,
      program_id: program,
      workout_date: '2026-11-25',
      start_time: '09:00:00',
      end_time: '10:00:00',
      duration_minutes: 60,
      trainer_notes: 'Great form on the deadlifts',
    },
    expected: [
      {
        recipient_id: client,
        type: 'BOOKING_COMPLETED',
        title: 'Session completed',
        message: `Well done: your 60-minute session on Wednesday 25 November is complete. Your trainer's notes: "Great form on the deadlifts" Add your exercises and how it felt to your workout log.`,
        booking_id: booking,
        program_id: program,
      },
    ],
  },
  'booking.reminder': {
    data: { booking_id: booking, client_id: client, trainer_id: trainer, booking_date: '2026-11-26', start_time: '10:30:00', hours_until: 24 },
    expected: [
      {
        recipient_id: client,
        type: 'BOOKING_REMINDER',
        title: 'Upcoming session',
        message: 'Reminder: your session starts in 24 hours, on Thursday 26 November at 10:30.',
        booking_id: booking,
      },
      {
        recipient_id: trainer,
        type: 'BOOKING_REMINDER',
        title: 'Upcoming session',
        message: 'Reminder: your session with your client starts in 24 hours, on Thursday 26 November at 10:30.',
        booking_id: booking,
      },
    ],
  },
  'booking.rescheduled': {
    data: {
      booking_id: booking,
      client_id: client,
      trainer_id: trainer,
      old_date: '2026-11-27',
      old_start_time: '14:00:00',
      old_end_time: '15:00:00',
      new_date: '2027-01-04',
      new_start_time: '09:00:00',
      new_end_time: '09:45:00',
    },
    expected: [client, trainer].map((recipient_id) => ({
      recipient_id,
      type: 'BOOKING_RESCHEDULED',
      title: 'Session rescheduled',
      message: 'Your session on Friday 27 November at 14:00 has moved to Monday 4 January 2027, 09:00–09:45.',
      booking_id: booking,
    })),
  },
  'program.assigned': {
    data: {
      program_id: program,
      client_id: client,
      trainer_id: trainer,
      name: 'Strength Foundations',
      workout_plan_id: randomUUID(),
      diet_plan_id: randomUUID(),
      start_date: '2026-11-30',
      duration_weeks: 8,
    },
    expected: [
      {
        recipient_id: client,
        type: 'PROGRAM_ASSIGNED',
        title: 'New program assigned',
        message: 'Your trainer assigned you "Strength Foundations": 8 weeks starting Monday 30 November, with a workout plan and a diet plan.',
        program_id: program,
      },
    ],
  },
  'program.completed': {
    data: { program_id: program, client_id: client, trainer_id: trainer, name: 'Strength Foundations', completion_date: '2026-11-25', adherence_rate: 0.875 },
    expected: [
      {
        recipient_id: client,
        type: 'PROGRAM_COMPLETED',
        title: 'Program completed',
        message: 'Congratulations: you completed "Strength Foundations" on Wednesday 25 November with 88% adherence.',
        program_id: program,
      },
      {
        recipient_id: trainer,
        type: 'PROGRAM_COMPLETED',
        title: 'Program completed',
        message: 'Your client completed "Strength Foundations" on Wednesday 25 November with 88% adherence.',
        program_id: program,
      },
    ],
  },
  'program.updated': {
    data: {
      program_id: program,
      client_id: client,
      trainer_id: trainer,
      name: 'Strength Foundations',
      changes: ['workout_plan_updated', 'diet_plan_modified'],
    },
    expected: [
      {
        recipient_id: client,
        type: 'PROGRAM_UPDATED',
        title: 'Program updated',
        message: 'Your trainer updated "Strength Foundations": workout plan updated and diet plan modified.',
        program_id: program,
      },
    ],
  },
  'achievement.earned': {
    data: {
      achievement_id: achievement,
      client_id: client,
      program_id: program,
      type: 'PROGRAM_COMPLETION',
      title: 'Completed Strength Foundations',
      description: 'You completed your training program',
      badge_icon: 'program_complete.png',
    },
    expected: [
      {
        recipient_id: client,
        type: 'ACHIEVEMENT_EARNED',
        title: 'Achievement unlocked',
        message: 'You earned "Completed Strength Foundations". You completed your training program.',
        achievement_id: achievement,
        program_id: program,
      },
    ],
  },
  'milestone.reached': {
    data: {
      client_id: client,
      goal_id: randomUUID(),
      milestone_type: 'weight_goal',
      metric: 'weight_kg',
      target_value: 75,
      achieved_value: 74.8,
      previous_value: 85,
    },
    expected: [
      {
        recipient_id: client,
        type: 'MILESTONE_REACHED',
        title: 'Milestone reached',
        message: 'You reached your weight goal of 75 kg: now 74.8 kg, from 85 kg. Keep it up!',
      },
    ],
  },
  'progress.updated': {
    data: {
      client_id: client,
      metric_type: 'body_metrics',
      new_value: { weight_kg: 74.8, body_fat_percentage: 18.5 },
      change_from_last: { weight_kg: -0.5, body_fat_percentage: -0.3 },
    },
    expected: [
      {
        recipient_id: client,
        type: 'PROGRESS_UPDATED',
        title: 'Progress recorded',
        message: 'Your new measurements: weight 74.8 kg (−0.5 kg) and body fat 18.5% (−0.3%).',
      },
    ],
  },
  'user.updated': {
    data: { user_id: trainer, changes: ['name', 'phoneNumber'] },
    expected: [
      {
        recipient_id: trainer,
        type: 'PROFILE_UPDATED',
        title: 'Profile updated',
        message: 'Your profile was updated: name and phone number. If you did not make this change, contact your gym.',
      },
    ],
  },
  'coaching.requested': {
    data: { coaching_id: randomUUID(), client_id: client, trainer_id: trainer, requested_by: trainer },
    expected: [
      {
        recipient_id: client,
        type: 'COACHING_REQUESTED',
        title: 'Coaching request',
        message: 'A trainer asked to coach you. Once you accept, they see your profile, progress and bookings, and can plan programs and sessions with you.',
      },
    ],
  },
  'coaching.accepted': {
    data: { coaching_id: randomUUID(), client_id: client, trainer_id: trainer, accepted_by: client },
    expected: [
      {
        recipient_id: trainer,
        type: 'COACHING_ACCEPTED',
        title: 'Coaching accepted',
        message: 'Your client accepted coaching: you can now see their profile and progress, assign programs and book sessions.',
      },
    ],
  },
  'coaching.ended': {
    // Ended by an admin: both sides are told.
    data: { coaching_id: randomUUID(), client_id: client, trainer_id: trainer, ended_by: admin, outcome: 'ENDED', cancelled_program_ids: [program] },
    expected: [
      {
        recipient_id: client,
        type: 'COACHING_ENDED',
        title: 'Coaching ended',
        message: 'Coaching with your trainer has ended: they no longer see your data. Your open program and upcoming sessions between you are cancelled.',
      },
      {
        recipient_id: trainer,
        type: 'COACHING_ENDED',
        title: 'Coaching ended',
        message: 'Coaching with your client has ended: you no longer see their data. Your open program and upcoming sessions between you are cancelled.',
      },
    ],
  },
  'trainer.approved': {
    data: { trainer_id: trainer, approved_by: admin },
    expected: [
      {
        recipient_id: trainer,
        type: 'TRAINER_APPROVED',
        title: 'Trainer account approved',
        message: 'The gym approved your trainer account: clients can now find you, and you can ask them to train with you.',
      },
    ],
  },
};

describe.each(storageBackends())('notification event handlers on %s', (backend) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, backend));
  });
  afterAll(() => dispose?.());

  const rowsOf = (eventId: string) => db.query<NotificationRow>('SELECT * FROM notifications WHERE event_id = $1 ORDER BY type, recipient_id', [eventId]);
  const unread = async (userId: string) =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL', [userId]))[0].n;
  const handle = <C extends Channel>(e: EventEnvelope<C>) => handleEvent(db, 'notifications', notificationHandlers[e.event] as EventHandler<C>, e);

  it('consumes every channel of the catalog', () => {
    expect(Object.keys(notificationsSubgraph.consumes ?? {}).sort()).toEqual([...CHANNELS].sort());
  });

  it.each(CHANNELS)('%s becomes the notifications of the users it concerns, once', async (channel) => {
    const { data, expected } = cases[channel];
    const e = event(channel, data as never);
    const before = { client: await unread(client), trainer: await unread(trainer) };

    const live = await handle(e);
    const rows = await rowsOf(e.event_id);
    const want = expected
      .map((x) => ({ booking_id: null, program_id: null, achievement_id: null, ...x, correlation_id: e.correlation_id, event_id: e.event_id, read_at: null }))
      .sort((a, b) => a.type.localeCompare(b.type) || a.recipient_id.localeCompare(b.recipient_id));
    expect(rows.map(({ id: _id, created_at: _at, ...rest }) => rest)).toEqual(want);

    // One notificationAdded per row, then each recipient's new unread count.
    const counts = { [client]: before.client, [trainer]: before.trainer };
    for (const r of rows) counts[r.recipient_id]++;
    expect(
      live
        .filter((m) => m.topic === 'notificationAdded')
        .map((m) => m.payload)
        .sort((a: any, b: any) => a.notification_id.localeCompare(b.notification_id)),
    ).toEqual(rows.map((r) => ({ notification_id: r.id, recipient_id: r.recipient_id })).sort((a, b) => a.notification_id.localeCompare(b.notification_id)));
    expect(live.filter((m) => m.topic === 'unreadNotificationCountChanged').map((m) => m.payload)).toEqual(
      expect.arrayContaining([...new Set(rows.map((r) => r.recipient_id))].map((id) => ({ user_id: id, count: counts[id] }))),
    );
    expect(live).toHaveLength(rows.length + new Set(rows.map((r) => r.recipient_id)).size);

    // The same envelope again, in a new transaction: nothing new, nothing published.
    expect(await handle(e)).toEqual([]);
    expect(await rowsOf(e.event_id)).toEqual(rows);
  });

  it('a cancellation by the trainer notifies the client; one by an admin notifies both, without a reason when none was given', async () => {
    const base = { booking_id: booking, client_id: client, trainer_id: trainer, booking_date: '2026-11-27', start_time: '14:00:00', cancellation_reason: null };
    const byTrainer = event('booking.cancelled', { ...base, cancelled_by: trainer });
    await handle(byTrainer);
    expect((await rowsOf(byTrainer.event_id)).map((r) => [r.recipient_id, r.message])).toEqual([
      [client, 'Your session on Friday 27 November at 14:00 was cancelled by your trainer.'],
    ]);

    const byAdmin = event('booking.cancelled', { ...base, cancelled_by: admin, cancellation_reason: 'Gym closed for maintenance.' });
    await handle(byAdmin);
    const message = 'Your session on Friday 27 November at 14:00 was cancelled by the gym. Reason: Gym closed for maintenance.';
    expect((await rowsOf(byAdmin.event_id)).map((r) => r.recipient_id).sort()).toEqual([client, trainer].sort());
    expect(new Set((await rowsOf(byAdmin.event_id)).map((r) => r.message))).toEqual(new Set([message]));
  });

  it('a reminder for a session made at short notice says how soon it is', async () => {
    const soon = event('booking.reminder', { ...cases['booking.reminder'].data, hours_until: 0.4 });
    const later = event('booking.reminder', { ...cases['booking.reminder'].data, hours_until: 1.2 });
    await handle(soon);
    await handle(later);
    expect((await rowsOf(soon.event_id)).find((r) => r.recipient_id === client)!.message).toBe(
      'Reminder: your session starts in less than an hour, on Thursday 26 November at 10:30.',
    );
    expect((await rowsOf(later.event_id)).find((r) => r.recipient_id === client)!.message).toBe(
      'Reminder: your session starts in 1 hour, on Thursday 26 November at 10:30.',
    );
  });

  it('users, bookings and programs nobody knows are stored as references without any lookup', async () => {
    const stranger = randomUUID();
    const e = event('booking.created', {
      ...cases['booking.created'].data,
      booking_id: randomUUID(),
      client_id: stranger,
      trainer_id: randomUUID(),
      program_id: null,
    });
    await handle(e);
    const rows = await rowsOf(e.event_id);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.recipient_id === stranger)).toMatchObject({ booking_id: e.data.booking_id, program_id: null });
  });

  it('the unread count published is the recipient’s real count after the insert', async () => {
    const someone = randomUUID();
    await db.query(
      `INSERT INTO notifications (id, recipient_id, type, title, message, read_at) VALUES ($1, $3, 'PROFILE_UPDATED', 't', 'm', NULL), ($2, $3, 'PROFILE_UPDATED', 't', 'm', now())`,
      [randomUUID(), randomUUID(), someone],
    );
    const live = await handle(event('user.updated', { user_id: someone, changes: ['email'] }));
    expect(live.find((m) => m.topic === 'unreadNotificationCountChanged')!.payload).toEqual({ user_id: someone, count: 2 });
  });

  it('what a handler stores reads back through the graph, references included', async () => {
    const e = event('achievement.earned', cases['achievement.earned'].data);
    await handle(e);
    const [row] = await rowsOf(e.event_id);
    const server = await startNotifications(testConfig('notifications', backend), { db, clock });
    try {
      const { body } = await callSubgraph(
        server.url,
        'query($id: ID!) { notification(id: $id) { id type title message read recipient { id } booking { id } program { id } achievement { id } correlationId } }',
        { id: row.id },
        { token: await testToken({ id: client, role: 'CLIENT' }, clock) },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data!.notification).toEqual({
        id: row.id,
        type: 'ACHIEVEMENT_EARNED',
        title: 'Achievement unlocked',
        message: row.message,
        read: false,
        recipient: { id: client },
        booking: null,
        program: { id: program },
        achievement: { id: achievement },
        correlationId: e.correlation_id,
      });
    } finally {
      await server.close();
    }
  });
});
