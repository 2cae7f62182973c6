// Consent for who trains whom (issue 13): the attack "register as a trainer, assign a program
// to any client, read their private data" fails; access comes only with an admin's approval
// and the client's acceptance, and goes when the relationship ends, with the pair's open
// programs and future bookings. Through the gateway, events and notifications included.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import { storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coach } from './support/coaching.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const admin = byEmail(DEMO_LOGINS.admin);
const demoTrainer = byEmail(DEMO_LOGINS.trainer);
const demoClient = byEmail(DEMO_LOGINS.client);
// The victim: a client of another trainer, with a private profile, progress and bookings.
const victimCoaching = gym.coaching.find((c) => c.trainerId !== demoTrainer.id)!;
const victim = gym.users.find((u) => u.id === victimCoaching.clientId)!;
const victimsTrainer = gym.users.find((u) => u.id === victimCoaching.trainerId)!;
const gymId = gym.bookings[0].gymId;
const DAY = addDays(TODAY, 3);
const MISSING = '00000000-0000-4000-8000-000000000000';

const PRIVATE = `query($id: ID!) { user(id: $id) { id name clientProfile { dateOfBirth emergencyContact { phone } }
  upcomingBookings { id } progress { totalWorkouts } workoutLogs { id } bodyMetrics { id } goals { id } activePrograms { id } } }`;
const PRIVATE_FIELDS = ['clientProfile', 'upcomingBookings', 'progress', 'workoutLogs', 'bodyMetrics', 'goals', 'activePrograms'];
const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { token user { id role trainerProfile { approved } } } }';
const REQUEST = 'mutation($i: RequestCoachingInput!) { requestCoaching(input: $i) { id status client { id } trainer { id } requestedBy { id } } }';
const ACCEPT = 'mutation($id: ID!) { acceptCoaching(id: $id) { id status acceptedAt } }';
const DECLINE = 'mutation($id: ID!) { declineCoaching(id: $id) { id status } }';
const END = 'mutation($id: ID!) { endCoaching(id: $id) { id status endedBy { id } endedAt } }';
const ASSIGN = 'mutation($i: AssignProgramInput!) { assignProgram(input: $i) { id status } }';
const BOOK = 'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id status } }';
const APPROVE = 'mutation($id: ID!) { approveTrainer(id: $id) { id trainerProfile { approved approvedAt } } }';
const TRAINERS = '{ users(role: TRAINER, first: 100) { totalCount edges { node { id } } } }';
const NOTIFICATIONS = '{ me { notifications(first: 50) { type title message } } }';

type Result = { data?: any; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };
const code = (res: Result) => res.errors?.[0]?.extensions?.code;
const fieldCodes = (res: Result) => Object.fromEntries((res.errors ?? []).map((e) => [String(e.path?.at(-1)), e.extensions?.code]));
const forbiddenEverywhere = Object.fromEntries(PRIVATE_FIELDS.map((f) => [f, 'FORBIDDEN']));

describe.each(storageBackends())('consent for who trains whom on %s', (backend) => {
  let platform: Platform;
  let as: (token: string, query: string, variables?: Record<string, unknown>) => Promise<Result>;
  let adminToken: string;
  let victimToken: string;
  /** The fresh self-registered trainer. */
  let mallory: { id: string; role: 'TRAINER'; token: string };
  const coachingRows = async () => (await platform.databases.training.query<{ n: number }>('SELECT count(*)::int AS n FROM coaching_relationships'))[0].n;
  const programsOfPair = async () =>
    platform.databases.training.query<{ id: string; status: string }>('SELECT id, status FROM programs WHERE client_id = $1 AND trainer_id = $2', [
      victim.id,
      mallory.id,
    ]);
  const bookingsOf = async (clientId: string, trainerId: string) =>
    platform.databases.schedule.query<{ id: string; status: string; cancellation_reason: string | null }>(
      'SELECT id, status, cancellation_reason FROM bookings WHERE client_id = $1 AND trainer_id = $2 ORDER BY date, start_time',
      [clientId, trainerId],
    );
  const notificationsOf = async (token: string) => ((await as(token, NOTIFICATIONS)).data?.me.notifications ?? []) as { type: string; message: string }[];

  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
    as = (token, query, variables = {}) => platform.query(query, variables, token);
    adminToken = await platform.tokenFor(admin);
    victimToken = await platform.tokenFor(victim);
    const reg = await platform.query(REGISTER, {
      i: { email: `mallory-${backend}@example.test`, password: 'correct horse battery', name: 'Mallory Trainer', role: 'TRAINER' },
    });
    expect(reg.errors).toBeUndefined();
    expect(reg.data.register.user).toMatchObject({ role: 'TRAINER', trainerProfile: { approved: false } });
    mallory = { id: reg.data.register.user.id, role: 'TRAINER', token: reg.data.register.token };
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('a fresh self-registered trainer can neither see, nor assign to, nor book, nor ask a client, and is not listed', async () => {
    const before = await coachingRows();
    const seen = await as(mallory.token, PRIVATE, { id: victim.id });
    expect(seen.data.user).toMatchObject({ id: victim.id, name: victim.name, clientProfile: null, progress: null });
    expect(fieldCodes(seen)).toMatchObject(forbiddenEverywhere);

    const assigned = await as(mallory.token, ASSIGN, { i: { clientId: victim.id, name: 'Totally legit', startDate: TODAY, durationWeeks: 4 } });
    expect(code(assigned)).toBe('FORBIDDEN');
    const booked = await as(mallory.token, BOOK, { i: { clientId: victim.id, trainerId: mallory.id, gymId, date: DAY, startTime: '20:00', endTime: '21:00' } });
    expect(code(booked)).toBe('FORBIDDEN');
    // Unapproved: their requests are refused, whichever side asks.
    const asked = await as(mallory.token, REQUEST, { i: { clientId: victim.id } });
    expect(code(asked)).toBe('FORBIDDEN');
    expect(asked.errors?.[0].message).toMatch(/not approved/);
    const victimAsks = await as(victimToken, REQUEST, { i: { trainerId: mallory.id } });
    expect(code(victimAsks)).toBe('FORBIDDEN');

    // Listed for admins (to approve), not for clients; the approved demo trainers are listed for both.
    const listedForClient = (await as(victimToken, TRAINERS)).data.users;
    const listedForAdmin = (await as(adminToken, TRAINERS)).data.users;
    const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((e) => e.node.id);
    expect(ids(listedForClient)).not.toContain(mallory.id);
    expect(ids(listedForClient)).toContain(demoTrainer.id);
    expect(ids(listedForAdmin)).toContain(mallory.id);
    expect(listedForAdmin.totalCount).toBe(listedForClient.totalCount + 1);

    expect(await coachingRows()).toBe(before);
    expect(await programsOfPair()).toEqual([]);
    expect(await bookingsOf(victim.id, mallory.id)).toEqual([]);
  });

  it('approveTrainer: admins only, once, trainers only; the trainer is told', async () => {
    expect(code(await as(victimToken, APPROVE, { id: mallory.id }))).toBe('FORBIDDEN');
    expect(code(await as(mallory.token, APPROVE, { id: mallory.id }))).toBe('FORBIDDEN');
    expect(code(await as(adminToken, APPROVE, { id: MISSING }))).toBe('NOT_FOUND');
    const notTrainer = await as(adminToken, APPROVE, { id: victim.id });
    expect(code(notTrainer)).toBe('BAD_USER_INPUT');
    expect(notTrainer.errors?.[0].extensions?.field).toBe('id');
    expect(code(await as(adminToken, APPROVE, { id: demoTrainer.id }))).toBe('CONFLICT');

    const approved = await as(adminToken, APPROVE, { id: mallory.id });
    expect(approved.errors).toBeUndefined();
    expect(approved.data.approveTrainer.trainerProfile).toEqual({ approved: true, approvedAt: clock().toISOString() });
    const again = await as(adminToken, APPROVE, { id: mallory.id });
    expect(code(again)).toBe('CONFLICT');
    expect(again.errors?.[0].extensions?.reason).toBe('ALREADY_APPROVED');
    expect((await as(victimToken, TRAINERS)).data.users.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(mallory.id);

    await platform.settle();
    expect(await notificationsOf(mallory.token)).toEqual([expect.objectContaining({ type: 'TRAINER_APPROVED', title: 'Trainer account approved' })]);
  });

  it('bad coaching requests each get their own code and change nothing', async () => {
    const before = await coachingRows();
    const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== victim.id)!;
    const cases: [string, Record<string, unknown>, string, string?][] = [
      // yourself
      [mallory.token, { clientId: mallory.id }, 'BAD_USER_INPUT', 'clientId'],
      // a non-client (another trainer), and a client named as the trainer
      [mallory.token, { clientId: demoTrainer.id }, 'BAD_USER_INPUT', 'clientId'],
      [victimToken, { trainerId: otherClient.id }, 'BAD_USER_INPUT', 'trainerId'],
      [mallory.token, { clientId: MISSING }, 'BAD_USER_INPUT', 'clientId'],
      [mallory.token, { clientId: 'not-a-uuid' }, 'BAD_USER_INPUT', 'clientId'],
      [mallory.token, {}, 'BAD_USER_INPUT', 'clientId'],
      // asking on someone else's behalf
      [mallory.token, { clientId: victim.id, trainerId: demoTrainer.id }, 'FORBIDDEN'],
      [victimToken, { clientId: otherClient.id, trainerId: mallory.id }, 'FORBIDDEN'],
      // the pair already coaches: one open relationship per pair
      [await platform.tokenFor(victimsTrainer), { clientId: victim.id }, 'CONFLICT'],
    ];
    for (const [token, i, expected, field] of cases) {
      const res = await as(token, REQUEST, { i });
      expect(code(res), JSON.stringify(i)).toBe(expected);
      if (field) expect(res.errors?.[0].extensions?.field, JSON.stringify(i)).toBe(field);
    }
    expect(code(await as(mallory.token, ACCEPT, { id: MISSING }))).toBe('NOT_FOUND');
    expect(code(await as(mallory.token, END, { id: MISSING }))).toBe('NOT_FOUND');
    expect(code(await as(mallory.token, ACCEPT, { id: 'nope' }))).toBe('BAD_USER_INPUT');
    expect(await coachingRows()).toBe(before);
  });

  it('access comes with the client accepting an approved trainer, and goes when the client ends it, with the pair’s open programs and future bookings', async () => {
    // The approved trainer asks: still no access while the request waits.
    const asked = await as(mallory.token, REQUEST, { i: { clientId: victim.id } });
    expect(asked.errors).toBeUndefined();
    expect(asked.data.requestCoaching).toMatchObject({
      status: 'PENDING',
      client: { id: victim.id },
      trainer: { id: mallory.id },
      requestedBy: { id: mallory.id },
    });
    const id = asked.data.requestCoaching.id as string;
    expect(code(await as(mallory.token, REQUEST, { i: { clientId: victim.id } }))).toBe('CONFLICT');
    expect(fieldCodes(await as(mallory.token, PRIVATE, { id: victim.id }))).toMatchObject(forbiddenEverywhere);
    expect(code(await as(mallory.token, ASSIGN, { i: { clientId: victim.id, name: 'Early', startDate: TODAY, durationWeeks: 4 } }))).toBe('FORBIDDEN');

    // Not addressed to them: the trainer who asked, another client; and it cannot be ended before it starts.
    expect(code(await as(mallory.token, ACCEPT, { id }))).toBe('FORBIDDEN');
    expect(code(await as(await platform.tokenFor(demoClient), ACCEPT, { id }))).toBe('FORBIDDEN');
    expect(code(await as(victimToken, END, { id }))).toBe('CONFLICT');
    const pending = await as(victimToken, '{ me { coaching(status: PENDING) { id status trainer { id name } } } }');
    expect(pending.data.me.coaching).toEqual([{ id, status: 'PENDING', trainer: { id: mallory.id, name: 'Mallory Trainer' } }]);

    // The client accepts: the trainer now trains them.
    const accepted = await as(victimToken, ACCEPT, { id });
    expect(accepted.data.acceptCoaching).toEqual({ id, status: 'ACCEPTED', acceptedAt: clock().toISOString() });
    expect(code(await as(victimToken, ACCEPT, { id }))).toBe('CONFLICT');
    const seen = await as(mallory.token, PRIVATE, { id: victim.id });
    expect(seen.errors).toBeUndefined();
    expect(seen.data.user.clientProfile.dateOfBirth).toBe(victim.clientProfile!.dateOfBirth);
    expect(seen.data.user.progress.totalWorkouts).toBe(gym.workoutLogs.filter((l) => l.clientId === victim.id).length);

    // Booking needs an active program of theirs too; then both go through.
    const tooEarly = await as(mallory.token, BOOK, {
      i: { clientId: victim.id, trainerId: mallory.id, gymId, date: DAY, startTime: '20:00', endTime: '21:00' },
    });
    expect(code(tooEarly)).toBe('CONFLICT');
    expect(tooEarly.errors?.[0].extensions?.reason).toBe('NO_ACTIVE_PROGRAM');
    const program = await as(mallory.token, ASSIGN, { i: { clientId: victim.id, name: 'Consented block', startDate: TODAY, durationWeeks: 4 } });
    expect(program.data.assignProgram.status).toBe('ACTIVE');
    const booking = await as(mallory.token, BOOK, {
      i: { clientId: victim.id, trainerId: mallory.id, gymId, date: DAY, startTime: '20:00', endTime: '21:00' },
    });
    expect(booking.errors).toBeUndefined();
    const otherBookingsBefore = await bookingsOf(victim.id, victimsTrainer.id);
    expect(otherBookingsBefore.some((b) => b.status === 'CONFIRMED')).toBe(true);
    await platform.settle();

    // The client ends it: access, the open program and the future session go with it.
    const ended = await as(victimToken, END, { id });
    expect(ended.data.endCoaching).toEqual({ id, status: 'ENDED', endedBy: { id: victim.id }, endedAt: clock().toISOString() });
    const twice = await as(victimToken, END, { id });
    expect(code(twice)).toBe('CONFLICT');
    expect(twice.errors?.[0].extensions?.reason).toBe('ALREADY_ENDED');
    expect(code(await as(victimToken, DECLINE, { id }))).toBe('CONFLICT');
    expect(fieldCodes(await as(mallory.token, PRIVATE, { id: victim.id }))).toMatchObject(forbiddenEverywhere);
    expect(await programsOfPair()).toEqual([{ id: program.data.assignProgram.id, status: 'CANCELLED' }]);
    await platform.settle();
    expect(await bookingsOf(victim.id, mallory.id)).toEqual([
      { id: booking.data.createBooking.id, status: 'CANCELLED', cancellation_reason: 'Coaching ended' },
    ]);
    // Schedule remembers the end, for bookings checked with training before it.
    expect(await platform.databases.schedule.query('SELECT coaching_id FROM ended_coaching WHERE coaching_id = $1', [id])).toEqual([{ coaching_id: id }]);
    // Only that pair's: the client's sessions with their other trainer stand.
    expect(await bookingsOf(victim.id, victimsTrainer.id)).toEqual(otherBookingsBefore);
    expect(
      code(await as(mallory.token, BOOK, { i: { clientId: victim.id, trainerId: mallory.id, gymId, date: DAY, startTime: '18:00', endTime: '19:00' } })),
    ).toBe('FORBIDDEN');

    // Everyone heard, with the usual notifications of each change.
    const trainerHeard = (await notificationsOf(mallory.token)).map((n) => n.type);
    expect(trainerHeard).toEqual(expect.arrayContaining(['COACHING_ACCEPTED', 'COACHING_ENDED', 'BOOKING_CANCELLED', 'BOOKING_CREATED']));
    const clientHeard = await notificationsOf(victimToken);
    expect(clientHeard.map((n) => n.type)).toEqual(expect.arrayContaining(['COACHING_REQUESTED', 'PROGRAM_ASSIGNED', 'PROGRAM_UPDATED']));
    // The client ended it: they are not told about it, nor about the session they cancelled that way.
    expect(clientHeard.filter((n) => n.type === 'COACHING_ENDED' || n.type === 'BOOKING_CANCELLED')).toEqual([]);
    expect((await notificationsOf(mallory.token)).find((n) => n.type === 'COACHING_ENDED')?.message).toMatch(/1 open program|Your open program/);
  });

  it('a booking checked with training just before the relationship ended is refused once schedule has heard of the end', async () => {
    // Another pair of the demo gym, one no other test here touches: training still says they coach each other,
    // schedule has already recorded the end (the window between createBooking's check and its transaction).
    const pair = gym.coaching.find((c) => c.trainerId !== demoTrainer.id && c.clientId !== victim.id && c.trainerId !== victimsTrainer.id)!;
    const client = gym.users.find((u) => u.id === pair.clientId)!;
    const i = { clientId: pair.clientId, trainerId: pair.trainerId, gymId, date: DAY, startTime: '21:00', endTime: '22:00' };
    const before = await bookingsOf(pair.clientId, pair.trainerId);
    await platform.databases.schedule.query('INSERT INTO ended_coaching (coaching_id, client_id, trainer_id, ended_at) VALUES ($1, $2, $3, $4)', [
      pair.id,
      pair.clientId,
      pair.trainerId,
      clock(),
    ]);
    const refused = await as(await platform.tokenFor(client), BOOK, { i });
    expect(code(refused)).toBe('FORBIDDEN');
    expect(await bookingsOf(pair.clientId, pair.trainerId)).toEqual(before);
    // Positive control: the same booking goes through when no end was recorded.
    await platform.databases.schedule.query('DELETE FROM ended_coaching WHERE coaching_id = $1', [pair.id]);
    const booked = await as(await platform.tokenFor(client), BOOK, { i });
    expect(booked.errors).toBeUndefined();
  });

  it('a client may ask an approved trainer and decline or withdraw a request; admins accept for either side', async () => {
    const trainerToken = await platform.tokenFor(demoTrainer);
    const asked = await as(victimToken, REQUEST, { i: { trainerId: demoTrainer.id } });
    expect(asked.data.requestCoaching).toMatchObject({ status: 'PENDING', requestedBy: { id: victim.id } });
    // The client withdraws it; a declined request is final.
    expect((await as(victimToken, DECLINE, { id: asked.data.requestCoaching.id })).data.declineCoaching.status).toBe('DECLINED');
    expect(code(await as(trainerToken, ACCEPT, { id: asked.data.requestCoaching.id }))).toBe('CONFLICT');
    // Asked again, declined by the trainer.
    const again = await as(victimToken, REQUEST, { i: { trainerId: demoTrainer.id } });
    expect((await as(trainerToken, DECLINE, { id: again.data.requestCoaching.id })).data.declineCoaching.status).toBe('DECLINED');
    expect(fieldCodes(await as(trainerToken, PRIVATE, { id: victim.id }))).toMatchObject(forbiddenEverywhere);
    // An admin accepts on the client's behalf; the helper's way (trainer asks, client accepts) works for a third pair.
    const third = await as(victimToken, REQUEST, { i: { trainerId: demoTrainer.id } });
    expect((await as(adminToken, ACCEPT, { id: third.data.requestCoaching.id })).data.acceptCoaching.status).toBe('ACCEPTED');
    expect((await as(trainerToken, PRIVATE, { id: victim.id })).errors).toBeUndefined();
    const newClient = gym.users.find(
      (u) => u.role === 'CLIENT' && !gym.coaching.some((c) => c.clientId === u.id && c.trainerId === mallory.id) && u.id !== victim.id,
    )!;
    await coach(platform, mallory, newClient);
    expect((await as(mallory.token, PRIVATE, { id: newClient.id })).errors).toBeUndefined();
  });
});
