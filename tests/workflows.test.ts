// The old plan's flows end to end: a mutation through the gateway, its event through the
// outbox and the bus, the other services' workflows, and what users then read through
// the graph. On the in-process bus with PGlite, and on Redis Streams with Postgres.
import { randomUUID } from 'node:crypto';
import { DEMO_LOGINS, demoGym, type GymBooking } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';
import { busSetups, freeSlot as freeSlotOf } from './support/slots.js';
import { subscribeWs, type LiveSubscription } from './support/live.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const program = gym.programs.find((p) => p.clientId === client.id && p.trainerId === trainer.id && p.status === 'ACTIVE')!;
const gymId = gym.bookings[0].gymId;
// Flow 3 completes a program: another client of the demo trainer's, so that the flows that book
// the demo client (which needs their active program) pass in any order.
const completing = gym.programs.find((p) => p.trainerId === trainer.id && p.clientId !== client.id && p.status === 'ACTIVE')!;

// 200 past sessions of the demo pair, still open, for the consumer-down test.
const backlog: GymBooking[] = Array.from({ length: 200 }, (_, i) => ({
  id: randomUUID(),
  clientId: client.id,
  trainerId: trainer.id,
  programId: program.id,
  gymId,
  date: addDays(TODAY, -30 - Math.floor(i / 10)),
  startTime: `${String(6 + (i % 10)).padStart(2, '0')}:00:00`,
  endTime: `${String(7 + (i % 10)).padStart(2, '0')}:00:00`,
  type: 'ONE_ON_ONE',
  status: 'CONFIRMED',
  notes: null,
  trainerNotes: null,
  cancellationReason: null,
}));
const seeded = { ...gym, bookings: [...gym.bookings, ...backlog] };

/** An hour on `date` when neither the demo client nor the demo trainer has a session. */
const freeSlot = (date: string) => freeSlotOf(gym.bookings, date, [client.id, trainer.id]);

describe.each(busSetups())('workflows on $backend with the $transport bus', ({ backend, transport }) => {
  let platform: Platform;
  let n = 0;
  const as = async (user: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }, query: string, variables: Record<string, unknown> = {}) => {
    const correlationId = `wf-${transport}-${++n}`;
    const res = await platform.query(query, variables, await platform.tokenFor(user), { 'x-correlation-id': correlationId });
    return { ...res, correlationId };
  };
  const notificationsOf = (correlationId: string) =>
    platform.databases.notifications.query<{
      recipient_id: string;
      type: string;
      booking_id: string | null;
      program_id: string | null;
      achievement_id: string | null;
    }>('SELECT recipient_id, type, booking_id, program_id, achievement_id FROM notifications WHERE correlation_id = $1 ORDER BY type, recipient_id', [
      correlationId,
    ]);

  beforeAll(async () => {
    platform = await startPlatform(backend, [seeded], { clock, transport });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('Flow 1: a booking made through the gateway notifies the client and the trainer, who read it with names from users', async () => {
    const res = await as(client, 'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id program { id status trainer { id } } } }', {
      i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 3), ...freeSlot(addDays(TODAY, 3)) },
    });
    expect(res.errors).toBeUndefined();
    const bookingId = res.data.createBooking.id;
    // The pair's active program (another test may have assigned them a newer one).
    const bookedProgram = res.data.createBooking.program;
    expect(bookedProgram).toMatchObject({ status: 'ACTIVE', trainer: { id: trainer.id } });
    await platform.settle();
    expect(await notificationsOf(res.correlationId)).toEqual(
      [client.id, trainer.id]
        .sort()
        .map((recipient_id) => ({ recipient_id, type: 'BOOKING_CREATED', booking_id: bookingId, program_id: bookedProgram.id, achievement_id: null })),
    );
    const read = await as(trainer, '{ me { notifications(first: 50) { type correlationId booking { id date startTime client { name } trainer { name } } } } }');
    expect(read.errors).toBeUndefined();
    const mine = read.data.me.notifications.filter((x: any) => x.correlationId === res.correlationId);
    expect(mine).toEqual([
      {
        type: 'BOOKING_CREATED',
        correlationId: res.correlationId,
        booking: {
          id: bookingId,
          date: addDays(TODAY, 3),
          startTime: `${freeSlot(addDays(TODAY, 3)).startTime}:00`,
          client: { name: client.name },
          trainer: { name: trainer.name },
        },
      },
    ]);
  });

  it('Flow 2: completing a session creates the client’s workout-log stub and a notification carrying the mutation’s correlation id', async () => {
    const session =
      gym.bookings.find((b) => b.trainerId === trainer.id && b.clientId === client.id && b.date <= TODAY && b.status === 'CONFIRMED') ??
      gym.bookings.find((b) => b.trainerId === trainer.id && b.date <= TODAY && b.status === 'CONFIRMED')!;
    const owner = gym.users.find((u) => u.id === session.clientId)!;
    const res = await as(trainer, 'mutation($id: ID!) { completeBooking(id: $id, trainerNotes: "Solid squats") { id status } }', { id: session.id });
    expect(res.errors).toBeUndefined();
    await platform.settle();
    const logs = await as(owner, '{ me { workoutLogs(first: 50) { status workoutDate booking { id status trainerNotes trainer { name } } } } }');
    expect(logs.errors).toBeUndefined();
    expect(logs.data.me.workoutLogs.filter((l: any) => l.booking?.id === session.id)).toEqual([
      {
        status: 'STUB',
        workoutDate: session.date,
        booking: { id: session.id, status: 'COMPLETED', trainerNotes: 'Solid squats', trainer: { name: trainer.name } },
      },
    ]);
    expect(await notificationsOf(res.correlationId)).toEqual([
      { recipient_id: owner.id, type: 'BOOKING_COMPLETED', booking_id: session.id, program_id: session.programId, achievement_id: null },
    ]);
  });

  it('Flow 3: completing a program awards an achievement, whose achievement.earned notifies the client under the same correlation id', async () => {
    const owner = gym.users.find((u) => u.id === completing.clientId)!;
    const res = await as(trainer, 'mutation($id: ID!) { completeProgram(id: $id, adherenceRate: 0.9) { id status } }', { id: completing.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.completeProgram.status).toBe('COMPLETED');
    await platform.settle();
    const achievements = await platform.databases.progress.query<{ id: string; type: string }>('SELECT id, type FROM achievements WHERE program_id = $1', [
      completing.id,
    ]);
    expect(achievements).toEqual([{ id: expect.any(String), type: 'PROGRAM_COMPLETION' }]);
    const notes = await notificationsOf(res.correlationId);
    expect(notes).toEqual(
      [
        { recipient_id: owner.id, type: 'ACHIEVEMENT_EARNED', booking_id: null, program_id: completing.id, achievement_id: achievements[0].id },
        { recipient_id: owner.id, type: 'PROGRAM_COMPLETED', booking_id: null, program_id: completing.id, achievement_id: null },
        { recipient_id: trainer.id, type: 'PROGRAM_COMPLETED', booking_id: null, program_id: completing.id, achievement_id: null },
      ].sort((a, b) => a.type.localeCompare(b.type) || a.recipient_id.localeCompare(b.recipient_id)),
    );
    const read = await as(owner, '{ me { achievements(first: 5) { id type } } }');
    expect(read.data.me.achievements).toContainEqual({ id: achievements[0].id, type: 'PROGRAM_COMPLETION' });
  });

  it('delivers every notification exactly once after the notifications service was down while 200 sessions were completed', async () => {
    await platform.stop('notifications');
    for (let i = 0; i < backlog.length; i += 10) {
      const batch = await Promise.all(
        backlog.slice(i, i + 10).map((b) => as(trainer, 'mutation($id: ID!) { completeBooking(id: $id) { status } }', { id: b.id })),
      );
      for (const r of batch) expect(r.errors).toBeUndefined();
    }
    await platform.restart('notifications');
    await platform.settle(60_000);
    const rows = await platform.databases.notifications.query<{ booking_id: string; n: number }>(
      "SELECT booking_id, count(*)::int AS n FROM notifications WHERE type = 'BOOKING_COMPLETED' AND booking_id = ANY($1::uuid[]) GROUP BY booking_id",
      [backlog.map((b) => b.id)],
    );
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const stubs = await platform.databases.progress.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM workout_logs WHERE status = 'STUB' AND booking_id = ANY($1::uuid[])",
      [backlog.map((b) => b.id)],
    );
    expect(stubs[0].n).toBe(200);
  }, 120_000);

  describe('live', () => {
    const subs: LiveSubscription[] = [];
    afterAll(async () => {
      await Promise.all(subs.map((s) => s.dispose()));
    });

    it('a booking the trainer makes reaches the client as notificationAdded and bookingChanged, with fields of other subgraphs, and nobody else', async () => {
      const other = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
      const [clientToken, trainerToken, otherToken] = await Promise.all([client, trainer, other].map((u) => platform.tokenFor(u)));
      const added = subscribeWs(
        platform.gatewayUrl,
        clientToken,
        'subscription { notificationAdded { type title booking { date startTime trainer { name } } } }',
      );
      const changed = subscribeWs(platform.gatewayUrl, trainerToken, 'subscription { bookingChanged { change booking { date client { name } } } }');
      const stranger = subscribeWs(platform.gatewayUrl, otherToken, 'subscription { notificationAdded { title } }');
      subs.push(added, changed, stranger);
      // graphql-ws subscribes asynchronously: wait until the gateway holds all three.
      await expect.poll(() => platform.gateway.live!.active(), { timeout: 5_000 }).toBe(3);

      const nextProgram = await as(trainer, 'mutation($i: AssignProgramInput!) { assignProgram(input: $i) { id } }', {
        i: { clientId: client.id, name: 'Winter block', startDate: TODAY, durationWeeks: 8 },
      });
      expect(nextProgram.errors).toBeUndefined();
      const res = await as(trainer, 'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }', {
        i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 4), ...freeSlot(addDays(TODAY, 4)) },
      });
      expect(res.errors).toBeUndefined();
      await platform.settle();
      await added.waitFor(2);
      await changed.waitFor(1);
      const booked = added.events.map((e) => e.data?.notificationAdded).find((x) => x?.type === 'BOOKING_CREATED');
      expect(booked).toMatchObject({
        booking: { date: addDays(TODAY, 4), startTime: `${freeSlot(addDays(TODAY, 4)).startTime}:00`, trainer: { name: trainer.name } },
      });
      expect(added.events.every((e) => e.errors === undefined)).toBe(true);
      expect(changed.events[0]).toEqual({
        data: { bookingChanged: { change: 'CREATED', booking: { date: addDays(TODAY, 4), client: { name: client.name } } } },
      });
      // Positive control: a notification of the stranger's own, sent after, reaches them, and it is the only one they got.
      const own = randomUUID();
      await platform.databases.notifications.query(
        `INSERT INTO notifications (id, recipient_id, type, title, message) VALUES ($1, $2, 'PROFILE_UPDATED', 'Yours', 'Only yours')`,
        [own, other.id],
      );
      await platform.subgraphs.notifications.live.publish('notificationAdded', { notification_id: own, recipient_id: other.id });
      await stranger.waitFor(1);
      expect(stranger.events).toEqual([{ data: { notificationAdded: { title: 'Yours' } } }]);
    });
  });
});
