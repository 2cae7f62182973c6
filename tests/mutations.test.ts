import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import { storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

// The mutation halves of the old plan's flows, through the gateway: each checks the
// rows written and the outbox event, carrying the request's correlation id.
const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
const program = gym.programs.find((p) => p.clientId === client.id && p.trainerId === trainer.id && p.status === 'ACTIVE')!;
// Flow 3 completes a program: another client of the demo trainer's, so that Flow 1 (which needs
// the demo client's active program) passes in any order.
const completing = gym.programs.find((p) => p.trainerId === trainer.id && p.clientId !== client.id && p.status === 'ACTIVE')!;
const completingClient = gym.users.find((u) => u.id === completing.clientId)!;
const gymId = gym.bookings[0].gymId;

describe.each(storageBackends())('mutations through the gateway on %s', (backend) => {
  let platform: Platform;
  let n = 0;
  /** Sends the operation with a fresh correlation id and returns it with the result. */
  const send = async (query: string, variables: Record<string, unknown>, user: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => {
    const correlationId = `e2e-${backend}-${++n}`;
    const res = await platform.query(query, variables, await platform.tokenFor(user), { 'x-correlation-id': correlationId });
    return { ...res, correlationId };
  };
  const eventsOf = (service: 'schedule' | 'training', correlationId: string) =>
    platform.databases[service].query<{ channel: string; envelope: any }>(
      "SELECT channel, envelope FROM event_outbox WHERE envelope->>'correlation_id' = $1 ORDER BY seq",
      [correlationId],
    );

  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('Flow 1: a client books a session; schedule checks users and training, writes the booking and booking.created', async () => {
    const res = await send(
      `mutation($i: CreateBookingInput!) { createBooking(input: $i) {
         id status date startTime endTime trainer { name } client { name } program { id name }
       } }`,
      { i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 1), startTime: '14:00', endTime: '15:00' } },
      client,
    );
    expect(res.errors).toBeUndefined();
    const booking = res.data.createBooking;
    expect(booking).toMatchObject({
      status: 'CONFIRMED',
      date: addDays(TODAY, 1),
      startTime: '14:00:00',
      trainer: { name: trainer.name },
      client: { name: client.name },
      program: { id: program.id, name: program.name },
    });
    const rows = await platform.databases.schedule.query('SELECT client_id, trainer_id, program_id, status FROM bookings WHERE id = $1', [booking.id]);
    expect(rows).toEqual([{ client_id: client.id, trainer_id: trainer.id, program_id: program.id, status: 'CONFIRMED' }]);
    const events = await eventsOf('schedule', res.correlationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ channel: 'booking.created', envelope: { source: 'schedule', data: { booking_id: booking.id, program_id: program.id } } });

    // the same slot again (CONFLICT), and a trainer who does not coach the client (FORBIDDEN: no accepted relationship): nothing written
    const count = async () => (await platform.databases.schedule.query('SELECT count(*)::int AS n FROM bookings'))[0];
    const before = await count();
    const again = await send(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
      { i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 1), startTime: '14:30', endTime: '15:30' } },
      client,
    );
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    const stranger = await send(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
      { i: { clientId: client.id, trainerId: otherTrainer.id, gymId, date: addDays(TODAY, 2), startTime: '18:00', endTime: '19:00' } },
      client,
    );
    expect(stranger.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await count()).toEqual(before);
    expect(await eventsOf('schedule', again.correlationId)).toEqual([]);
  });

  it('Flow 2: the trainer completes a session; the booking is COMPLETED with booking.completed in its outbox', async () => {
    const session = gym.bookings.find((b) => b.trainerId === trainer.id && b.date === TODAY && b.status === 'CONFIRMED')!;
    const res = await send(
      'mutation($id: ID!) { completeBooking(id: $id, trainerNotes: "Great form") { id status trainerNotes durationMinutes } }',
      { id: session.id },
      trainer,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.completeBooking).toEqual({ id: session.id, status: 'COMPLETED', trainerNotes: 'Great form', durationMinutes: 60 });
    const [event] = await eventsOf('schedule', res.correlationId);
    expect(event).toMatchObject({
      channel: 'booking.completed',
      envelope: {
        data: {
          booking_id: session.id,
          client_id: session.clientId,
          trainer_id: trainer.id,
          workout_date: TODAY,
          duration_minutes: 60,
          trainer_notes: 'Great form',
        },
      },
    });
    const cancelled = await send('mutation($id: ID!) { cancelBooking(id: $id) { id } }', { id: session.id }, client);
    expect(cancelled.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('Flow 3: the trainer assigns a program (users checks both roles), then completes the active one with the adherence progress computes', async () => {
    const assigned = await send(
      `mutation($i: AssignProgramInput!) { assignProgram(input: $i) { id status client { name } trainer { name } workoutPlan { sessionsPerWeek } } }`,
      {
        i: {
          clientId: completingClient.id,
          name: 'Peak Block',
          startDate: addDays(TODAY, 7),
          durationWeeks: 6,
          workoutPlan: { name: 'Peak', sessionsPerWeek: 4 },
        },
      },
      trainer,
    );
    expect(assigned.errors).toBeUndefined();
    expect(assigned.data.assignProgram).toMatchObject({
      status: 'ACTIVE',
      client: { name: completingClient.name },
      trainer: { name: trainer.name },
      workoutPlan: { sessionsPerWeek: 4 },
    });
    expect((await eventsOf('training', assigned.correlationId)).map((e) => e.channel)).toEqual(['program.assigned']);

    const done = await send('mutation($id: ID!) { completeProgram(id: $id) { id status adherenceRate adherence { rate } } }', { id: completing.id }, trainer);
    expect(done.errors).toBeUndefined();
    const completed = done.data.completeProgram;
    expect(completed.status).toBe('COMPLETED');
    expect(completed.adherenceRate).toBeGreaterThan(0);
    expect(completed.adherenceRate).toBeCloseTo(completed.adherence.rate, 3);
    const [row] = await platform.databases.training.query<{ status: string; adherence_rate: number }>(
      'SELECT status, adherence_rate FROM programs WHERE id = $1',
      [completing.id],
    );
    expect(row).toEqual({ status: 'COMPLETED', adherence_rate: completed.adherenceRate });
    const [event] = await eventsOf('training', done.correlationId);
    expect(event).toMatchObject({
      channel: 'program.completed',
      envelope: {
        source: 'training',
        data: {
          program_id: completing.id,
          client_id: completingClient.id,
          trainer_id: trainer.id,
          completion_date: TODAY,
          adherence_rate: completed.adherenceRate,
        },
      },
    });
  });

  it('answers SERVICE_UNAVAILABLE and writes nothing when users is down, and serves again once it is back', async () => {
    await platform.stop('users');
    try {
      const count = async () => (await platform.databases.schedule.query('SELECT count(*)::int AS n FROM bookings'))[0];
      const before = await count();
      const res = await send(
        'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
        { i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 3), startTime: '19:00', endTime: '20:00' } },
        client,
      );
      expect(res.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(await count()).toEqual(before);
      expect(await eventsOf('schedule', res.correlationId)).toEqual([]);
    } finally {
      await platform.restart('users');
    }
    // Back on a new port: the gateway and schedule (which checks users) find it there.
    const back = await send(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id client { name } } }',
      { i: { clientId: client.id, trainerId: trainer.id, gymId, date: addDays(TODAY, 3), startTime: '19:00', endTime: '20:00' } },
      client,
    );
    expect(back.errors).toBeUndefined();
    expect(back.data.createBooking.client).toEqual({ name: client.name });
  });
});
