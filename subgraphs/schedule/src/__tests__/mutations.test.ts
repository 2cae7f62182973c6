import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays, pinnedClock } from '@fitsync/service-kit/clock';
import type { Database } from '@fitsync/service-kit';
import {
  correlatedCaller,
  outboxEvents,
  startTestSubgraphs,
  storageBackends,
  testToken,
  type IsolatedSubgraph,
  type TestSubgraphs,
} from '@fitsync/service-kit/testing';
import { seedTraining, startTraining, trainingSubgraph } from '@fitsync/training';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleSubgraph, seedSchedule, startSchedule } from '../server.js';

// The gym's clock: 10:30 on TODAY (vitest runs with TZ=UTC).
const TODAY = '2026-11-23';
const clock = pinnedClock(`${TODAY}T10:30:00`);
const TOMORROW = addDays(TODAY, 1);

const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const program = gym.programs.find((p) => p.clientId === client.id && p.trainerId === trainer.id && p.status === 'ACTIVE')!;
const gymId = gym.bookings[0].gymId;
const MISSING = '00000000-0000-4000-8000-000000000000';
const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);

const FIELDS = 'id status date startTime endTime program { id } client { id } trainer { id } cancellationReason cancelledBy { id } trainerNotes';
const CREATE = `mutation($i: CreateBookingInput!) { createBooking(input: $i) { ${FIELDS} } }`;
const CANCEL = `mutation($id: ID!, $reason: String) { cancelBooking(id: $id, reason: $reason) { ${FIELDS} } }`;
const RESCHEDULE = `mutation($id: ID!, $date: Date!, $s: Time!, $e: Time!) { rescheduleBooking(id: $id, date: $date, startTime: $s, endTime: $e) { ${FIELDS} } }`;
const COMPLETE = `mutation($id: ID!, $notes: String, $minutes: Int) { completeBooking(id: $id, trainerNotes: $notes, durationMinutes: $minutes) { ${FIELDS} } }`;

const input = (over: Record<string, unknown> = {}) => ({
  clientId: client.id,
  trainerId: trainer.id,
  gymId,
  date: TOMORROW,
  startTime: '14:00',
  endTime: '15:00',
  type: 'ONE_ON_ONE',
  ...over,
});

describe.each(storageBackends())('schedule mutations on %s', (backend) => {
  let env: TestSubgraphs;
  let db: Database;
  let url: string;
  /** Each call carries its own correlation id, returned with the response. */
  const call = correlatedCaller(() => url, `test-${backend}`);
  const outbox = () => outboxEvents(db);
  const snapshot = async () => ({
    bookings: await db.query('SELECT * FROM bookings ORDER BY id'),
    events: (await outbox()).length,
  });

  beforeAll(async () => {
    env = await startTestSubgraphs(
      backend,
      [
        { name: 'users', migrationsDir: usersSubgraph.migrationsDir, seed: (d) => seedUsers(d, gym), start: startUsers },
        { name: 'training', migrationsDir: trainingSubgraph.migrationsDir, seed: (d) => seedTraining(d, gym), start: startTraining },
        { name: 'schedule', migrationsDir: scheduleSubgraph.migrationsDir, seed: (d) => seedSchedule(d, gym), start: startSchedule },
      ],
      clock,
    );
    db = env.dbs.schedule!;
    url = env.servers.schedule!.url;
  });
  afterAll(async () => {
    await env?.close();
  });

  it('books a session after validating both users and the active program, writing the row and booking.created together', async () => {
    const before = (await outbox()).length;
    const res = await call(CREATE, { i: input({ notes: 'Bring shoes' }) }, await as(client));
    expect(res.errors).toBeUndefined();
    const booking = res.data!.createBooking;
    expect(booking).toMatchObject({ status: 'CONFIRMED', date: TOMORROW, startTime: '14:00:00', endTime: '15:00:00', program: { id: program.id } });
    const [row] = await db.query<{ program_id: string; notes: string }>('SELECT program_id, notes FROM bookings WHERE id = $1', [booking.id]);
    expect(row).toEqual({ program_id: program.id, notes: 'Bring shoes' });
    const events = (await outbox()).slice(before);
    expect(events).toHaveLength(1);
    expect(events[0].channel).toBe('booking.created');
    expect(events[0].envelope).toMatchObject({
      event: 'booking.created',
      source: 'schedule',
      correlation_id: res.correlationId,
      data: {
        booking_id: booking.id,
        client_id: client.id,
        trainer_id: trainer.id,
        program_id: program.id,
        gym_id: gymId,
        booking_date: TOMORROW,
        start_time: '14:00:00',
        end_time: '15:00:00',
        type: 'ONE_ON_ONE',
      },
    });
  });

  it('refuses every bad input with its code and writes nothing', async () => {
    const before = await snapshot();
    const asClient = await as(client);
    const cases: [Record<string, unknown>, string, string, string?][] = [
      [{ clientId: 'not-a-uuid' }, asClient, 'BAD_USER_INPUT', 'clientId'],
      [{ date: '2026-02-30' }, asClient, 'BAD_USER_INPUT'],
      [{ startTime: '25:00' }, asClient, 'BAD_USER_INPUT'],
      [{ startTime: '15:00', endTime: '14:00' }, asClient, 'BAD_USER_INPUT', 'endTime'],
      [{ date: TODAY, startTime: '09:00', endTime: '10:00' }, asClient, 'BAD_USER_INPUT', 'date'],
      [{ date: addDays(TODAY, -3) }, asClient, 'BAD_USER_INPUT', 'date'],
      [{ trainerId: MISSING }, asClient, 'BAD_USER_INPUT', 'trainerId'],
      [{ trainerId: otherClient.id }, asClient, 'BAD_USER_INPUT', 'trainerId'],
      [{ clientId: otherTrainer.id, trainerId: trainer.id }, await as(admin), 'BAD_USER_INPUT', 'clientId'],
      // a trainer who does not coach this client (no accepted coaching relationship; without an active program it is CONFLICT, tests/consent.test.ts)
      [{ trainerId: otherTrainer.id }, asClient, 'FORBIDDEN'],
      // a client booking for someone else
      [{ clientId: otherClient.id }, asClient, 'FORBIDDEN'],
    ];
    for (const [over, token, code, field] of cases) {
      const res = await call(CREATE, { i: input({ startTime: '16:00', endTime: '17:00', ...over }) }, token);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(over)).toBe(code);
      if (field) expect(res.errors?.[0].extensions?.field, JSON.stringify(over)).toBe(field);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a booking that overlaps another of the trainer or of the client', async () => {
    const tomorrows = gym.bookings
      .filter((b) => b.trainerId === trainer.id && b.date === TOMORROW && b.status === 'CONFIRMED')
      .sort((a, b) => a.startTime.localeCompare(b.startTime));
    const taken = tomorrows[0];
    const before = await snapshot();
    const overlapTrainer = await call(CREATE, { i: input({ startTime: taken.startTime.slice(0, 3) + '30', endTime: '23:00' }) }, await as(trainer));
    expect(overlapTrainer.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'OVERLAP' });
    expect(await snapshot()).toEqual(before);
    // Touching ends do not overlap: right after the trainer's last seeded session of the day,
    // a slot no other test books (the seeded sessions are back to back, so none starts then).
    const last = tomorrows[tomorrows.length - 1];
    expect(tomorrows.some((b) => b.startTime === last.endTime)).toBe(false);
    const adjacent = await call(CREATE, { i: input({ startTime: last.endTime.slice(0, 5), endTime: last.endTime.slice(0, 3) + '30' }) }, await as(trainer));
    expect(adjacent.errors).toBeUndefined();
  });

  it('lets exactly one of two concurrent overlapping bookings through', async () => {
    const token = await as(client);
    const results = await Promise.all(
      [0, 1, 2].map(() => call(CREATE, { i: input({ date: addDays(TODAY, 5), startTime: '18:00', endTime: '19:00' }) }, token)),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0].extensions?.code === 'CONFLICT')).toHaveLength(2);
    const rows = await db.query('SELECT id FROM bookings WHERE trainer_id = $1 AND date = $2 AND start_time = $3', [trainer.id, addDays(TODAY, 5), '18:00']);
    expect(rows).toHaveLength(1);
  });

  it('reschedules with the old and new times, under the same rules', async () => {
    const created = await call(CREATE, { i: input({ date: addDays(TODAY, 2), startTime: '12:00', endTime: '13:00' }) }, await as(client));
    const id = created.data!.createBooking.id;
    const before = (await outbox()).length;
    const moved = await call(RESCHEDULE, { id, date: addDays(TODAY, 3), s: '12:30', e: '13:30' }, await as(trainer));
    expect(moved.errors).toBeUndefined();
    expect(moved.data!.rescheduleBooking).toMatchObject({ date: addDays(TODAY, 3), startTime: '12:30:00', endTime: '13:30:00', status: 'CONFIRMED' });
    const [event] = (await outbox()).slice(before);
    expect(event.channel).toBe('booking.rescheduled');
    expect(event.envelope.correlation_id).toBe(moved.correlationId);
    expect(event.envelope.data).toEqual({
      booking_id: id,
      client_id: client.id,
      trainer_id: trainer.id,
      old_date: addDays(TODAY, 2),
      old_start_time: '12:00:00',
      old_end_time: '13:00:00',
      new_date: addDays(TODAY, 3),
      new_start_time: '12:30:00',
      new_end_time: '13:30:00',
    });
    // into the past, backwards, onto another booking
    const snap = await snapshot();
    const taken = gym.bookings.find((b) => b.trainerId === trainer.id && b.date > TODAY && b.status === 'CONFIRMED')!;
    for (const [vars, code] of [
      [{ date: addDays(TODAY, -1), s: '12:00', e: '13:00' }, 'BAD_USER_INPUT'],
      [{ date: addDays(TODAY, 3), s: '13:00', e: '12:00' }, 'BAD_USER_INPUT'],
      [{ date: taken.date, s: taken.startTime, e: taken.endTime }, 'CONFLICT'],
    ] as const) {
      const res = await call(RESCHEDULE, { id, ...vars }, await as(client));
      expect(res.errors?.[0].extensions?.code, JSON.stringify(vars)).toBe(code);
    }
    expect(await snapshot()).toEqual(snap);
  });

  it('cancels with the reason and who cancelled; a cancelled booking cannot be cancelled, moved or completed', async () => {
    const created = await call(CREATE, { i: input({ date: addDays(TODAY, 4), startTime: '12:00', endTime: '13:00' }) }, await as(client));
    const id = created.data!.createBooking.id;
    const stranger = await call(CANCEL, { id, reason: 'nope' }, await as(otherClient));
    expect(stranger.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const before = (await outbox()).length;
    const res = await call(CANCEL, { id, reason: 'Sick' }, await as(client));
    expect(res.data!.cancelBooking).toMatchObject({ status: 'CANCELLED', cancellationReason: 'Sick', cancelledBy: { id: client.id } });
    const [event] = (await outbox()).slice(before);
    expect(event.channel).toBe('booking.cancelled');
    expect(event.envelope.data).toMatchObject({ booking_id: id, cancellation_reason: 'Sick', cancelled_by: client.id, booking_date: addDays(TODAY, 4) });

    const snap = await snapshot();
    for (const [q, vars] of [
      [CANCEL, { id }],
      [RESCHEDULE, { id, date: addDays(TODAY, 6), s: '12:00', e: '13:00' }],
      [COMPLETE, { id }],
    ] as const) {
      const again = await call(q, vars, await as(admin));
      expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    }
    expect(await snapshot()).toEqual(snap);
    // the freed slot can be booked again
    const rebook = await call(CREATE, { i: input({ date: addDays(TODAY, 4), startTime: '12:00', endTime: '13:00' }) }, await as(client));
    expect(rebook.errors).toBeUndefined();
  });

  it('completes a session for its trainer only, once, not before its day, with booking.completed', async () => {
    const todays = gym.bookings.find((b) => b.trainerId === trainer.id && b.date === TODAY && b.status === 'CONFIRMED')!;
    const snap = await snapshot();
    expect((await call(COMPLETE, { id: todays.id }, await as(client))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(COMPLETE, { id: todays.id }, await as(otherTrainer))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(COMPLETE, { id: MISSING }, await as(trainer))).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await call(COMPLETE, { id: 'x' }, await as(trainer))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(COMPLETE, { id: todays.id, minutes: 0 }, await as(trainer))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const future = gym.bookings.find((b) => b.trainerId === trainer.id && b.date > TODAY && b.status === 'CONFIRMED')!;
    expect((await call(COMPLETE, { id: future.id }, await as(trainer))).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await snapshot()).toEqual(snap);

    const res = await call(COMPLETE, { id: todays.id, notes: 'Solid squats' }, await as(trainer));
    expect(res.errors).toBeUndefined();
    expect(res.data!.completeBooking).toMatchObject({ status: 'COMPLETED', trainerNotes: 'Solid squats' });
    const [event] = (await outbox()).slice(snap.events);
    expect(event.channel).toBe('booking.completed');
    expect(event.envelope).toMatchObject({
      correlation_id: res.correlationId,
      data: {
        booking_id: todays.id,
        client_id: todays.clientId,
        trainer_id: trainer.id,
        program_id: todays.programId,
        workout_date: TODAY,
        duration_minutes: 60,
        trainer_notes: 'Solid squats',
      },
    });
    const again = await call(COMPLETE, { id: todays.id }, await as(trainer));
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('marks a started session a no-show (trainer or admin), once, and nothing before it starts', async () => {
    const NO_SHOW = 'mutation($id: ID!) { markNoShow(id: $id) { id status } }';
    // today's sessions run from 07:00; the first is the one the completion test completes, the clock says 10:30
    const started = gym.bookings
      .filter((b) => b.trainerId === trainer.id && b.date === TODAY && b.status === 'CONFIRMED')
      .sort((a, b) => a.startTime.localeCompare(b.startTime))[1];
    expect(started.startTime < '10:30').toBe(true);
    const upcoming = (await call(CREATE, { i: input({ date: TODAY, startTime: '20:00', endTime: '21:00' }) }, await as(client))).data!.createBooking;
    const snap = await snapshot();
    expect((await call(NO_SHOW, { id: started.id }, await as(client))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(NO_SHOW, { id: upcoming.id }, await as(trainer))).errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'NOT_YET_HELD' });
    expect(await snapshot()).toEqual(snap);
    expect((await call(NO_SHOW, { id: started.id }, await as(trainer))).data!.markNoShow.status).toBe('NO_SHOW');
    expect((await call(NO_SHOW, { id: started.id }, await as(admin))).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await call(COMPLETE, { id: started.id }, await as(trainer))).errors?.[0].extensions?.code).toBe('CONFLICT');
    // no catalog channel for it: the outbox only gained the booking created above
    expect((await snapshot()).events).toBe(snap.events);
  });

  // Stopping the shared subgraphs would break every test that runs after this one: the outage
  // stops instances of its own instead (see TestSubgraphs.isolate).
  describe('with users or training down', () => {
    let isolated: IsolatedSubgraph;
    const callDown = correlatedCaller(() => isolated.server.url, `test-down-${backend}`);
    const snapshotDown = async () => ({
      bookings: await isolated.db.query('SELECT * FROM bookings ORDER BY id'),
      events: (await outboxEvents(isolated.db)).length,
    });

    beforeAll(async () => {
      isolated = await env.isolate('schedule');
    });
    afterAll(async () => {
      await isolated?.close();
    });

    it('fails with SERVICE_UNAVAILABLE and writes nothing when users or training is down', async () => {
      const snap = await snapshotDown();
      await isolated.stop('training');
      const noTraining = await callDown(CREATE, { i: input({ startTime: '20:00', endTime: '21:00' }) }, await as(client));
      expect(noTraining.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'training' });
      await isolated.stop('users');
      const noUsers = await callDown(CREATE, { i: input({ startTime: '20:00', endTime: '21:00' }) }, await as(client));
      expect(noUsers.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'users' });
      expect(await snapshotDown()).toEqual(snap);
    });
  });
});
