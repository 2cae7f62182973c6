import { gymTime, pinnedClock } from '@fitsync/service-kit/clock';
import { callSubgraph, openTestDatabase, storageBackends, testConfig, testToken } from '@fitsync/service-kit/testing';
import type { Database, RunningSubgraph } from '@fitsync/service-kit';
import { DEMO_LOGINS, demoGym, generateGym, type Gym, type GymBooking } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleStore } from '../store.js';
import { scheduleSubgraph, seedSchedule, startSchedule } from '../server.js';
import { seedDemo } from '../seed.js';

// The gym's clock for these tests: 10:30 local time on TODAY (vitest runs with TZ=UTC).
const TODAY = '2026-11-23';
const NOW = '10:30:00';
const clock = pinnedClock(`${TODAY}T${NOW}`);

const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const otherClient = gym.users.find(
  (u) => u.role === 'CLIENT' && u.id !== client.id && gym.bookings.some((b) => b.clientId === u.id && b.trainerId !== trainer.id),
)!;
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;

// Two more gyms in the same tables, for the batching proof: one trainer with a
// handful of bookings, and trainers with hundreds each and a hundred clients.
const small = generateGym({ trainers: 1, clients: 2, bookingsPerClient: 2, today: TODAY, seed: 7 });
const large = generateGym({ trainers: 2, clients: 100, bookingsPerClient: 6, today: TODAY, seed: 8 });
const trainerOf = (g: Gym) => g.users.find((u) => u.role === 'TRAINER')!;

// What each field should return, computed from the generated gym.
const mine = (g: Gym, userId: string) => g.bookings.filter((b) => b.clientId === userId || b.trainerId === userId);
const soonest = (a: GymBooking, b: GymBooking) => (a.date + a.startTime).localeCompare(b.date + b.startTime);
const expectedUpcoming = (g: Gym, userId: string, first: number) =>
  mine(g, userId)
    .filter((b) => ['PENDING', 'CONFIRMED'].includes(b.status) && (b.date > TODAY || (b.date === TODAY && b.endTime > NOW)))
    .sort(soonest)
    .slice(0, first)
    .map((b) => b.id);
const expectedToday = (g: Gym, userId: string) =>
  mine(g, userId)
    .filter((b) => b.date === TODAY && b.status !== 'CANCELLED')
    .sort(soonest)
    .map((b) => b.id);
const expectedBookings = (g: Gym, userId: string, first: number, filter: (b: GymBooking) => boolean = () => true) =>
  mine(g, userId)
    .filter(filter)
    .sort((a, b) => soonest(b, a))
    .slice(0, first)
    .map((b) => b.id);

const ids = (list: { id: string }[] | null | undefined) => list?.map((b) => b.id);
const userRep = (id: string, trainerIds: string[] = []) => ({ __typename: 'User', id, trainerIds });
const MISSING = '00000000-0000-4000-8000-000000000000';

const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename ';
const userSchedule = `${ENTITIES} ... on User { id upcomingBookings(first: 3) { id } todaySchedule { id } bookings(first: 4) { id } } } }`;

describe.each(storageBackends())('schedule subgraph on %s', (backend) => {
  let server: RunningSubgraph;
  let db: Database;
  let dispose: () => Promise<void>;
  const call = (query: string, variables?: Record<string, unknown>, token?: string) => callSubgraph(server.url, query, variables, { token });
  const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);
  /** Runs an operation and returns its response with the SQL statements it cost. */
  const counted = async (query: string, variables: Record<string, unknown>, token: string) => {
    const before = db.stats.statements;
    const { body } = await call(query, variables, token);
    return { body, statements: db.stats.statements - before };
  };

  beforeAll(async () => {
    const t = await openTestDatabase('schedule', scheduleSubgraph.migrationsDir, backend);
    db = t.db;
    dispose = t.dispose;
    for (const g of [gym, small, large]) await seedSchedule(db, g);
    server = await startSchedule(testConfig('schedule', backend), { db, clock });
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('publishes its federation SDL: Booking entity, User fields behind @requires', async () => {
    const { body } = await call('{ _service { sdl } }');
    const sdl: string = body.data?._service.sdl;
    expect(sdl).toMatch(/type Booking\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/upcomingBookings\(first: Int = 5\): \[Booking!\]\s+@requires\(fields: "trainerIds"\)/);
    expect(sdl).toMatch(/type Program\s+@key\(fields: "id"\)/);
  });

  it('refuses requests without a service credential', async () => {
    const res = await callSubgraph(server.url, '{ __typename }', {}, { service: false });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('resolves Booking references in key order in one SQL statement, null for unknown ids', async () => {
    const [a, b] = gym.bookings;
    const { body, statements } = await counted(
      `${ENTITIES} ... on Booking { id date startTime endTime durationMinutes status client { id } trainer { id } program { id } } } }`,
      { r: [b.id, MISSING, a.id].map((id) => ({ __typename: 'Booking', id })) },
      await as(admin),
    );
    expect(body.errors).toBeUndefined();
    const shape = (x: GymBooking) => ({
      __typename: 'Booking',
      id: x.id,
      date: x.date,
      startTime: x.startTime,
      endTime: x.endTime,
      durationMinutes: 60,
      status: x.status,
      client: { id: x.clientId },
      trainer: { id: x.trainerId },
      program: { id: x.programId },
    });
    expect(body.data?._entities).toEqual([shape(b), null, shape(a)]);
    expect(statements).toBe(1);
  });

  it('shows a booking to its parties and admins only', async () => {
    const booking = gym.bookings.find((b) => b.clientId === client.id && b.trainerId === trainer.id)!;
    const q = 'query($id: ID!) { booking(id: $id) { id gymId type client { id } } }';
    for (const viewer of [client, trainer, admin]) {
      const { body } = await call(q, { id: booking.id }, await as(viewer));
      expect(body.errors).toBeUndefined();
      expect(body.data?.booking).toEqual({ id: booking.id, gymId: gym.gymId, type: booking.type, client: { id: client.id } });
    }
    for (const stranger of [otherClient, otherTrainer]) {
      const { body } = await call(q, { id: booking.id }, await as(stranger));
      expect(body.data?.booking).toBeNull();
      expect(body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const ref = await call(`${ENTITIES} ... on Booking { id } } }`, { r: [{ __typename: 'Booking', id: booking.id }] }, await as(otherClient));
    expect(ref.body.data?._entities).toEqual([null]);
    expect(ref.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('answers malformed ids, unknown bookings and anonymous callers with their codes', async () => {
    const token = await as(client);
    const bad = await call('{ booking(id: "1; drop table bookings") { id } }', {}, token);
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await call(`{ booking(id: "${MISSING}") { id } }`, {}, token);
    expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const anonymous = await call(`{ booking(id: "${gym.bookings[0].id}") { id } }`);
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const badRef = await call(userSchedule, { r: [userRep('not-a-uuid')] }, await as(admin));
    expect(badRef.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badBookingRef = await call(`${ENTITIES} ... on Booking { id } } }`, { r: [{ __typename: 'Booking', id: 'nope' }] }, await as(admin));
    expect(badBookingRef.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await call(`${ENTITIES} ... on User { upcomingBookings(first: 500) { id } } } }`, { r: [userRep(client.id)] }, token);
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const backwards = await call(`${ENTITIES} ... on User { bookings(from: "2026-12-01", to: "2026-11-01") { id } } } }`, { r: [userRep(client.id)] }, token);
    expect(backwards.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("gives the demo trainer today's schedule and the client the sessions still to come", async () => {
    const q = `${ENTITIES} ... on User { todaySchedule { id startTime status client { id } } upcomingBookings(first: 5) { id date startTime } } } }`;
    const t = await call(q, { r: [userRep(trainer.id)] }, await as(trainer));
    expect(t.body.errors).toBeUndefined();
    const today = t.body.data?._entities[0].todaySchedule;
    expect(ids(today)).toEqual(expectedToday(gym, trainer.id));
    // The demo gym books the demo trainer's four slots today, from 07:00.
    expect(today.map((b: { startTime: string }) => b.startTime)).toEqual(['07:00:00', '08:00:00', '09:00:00', '10:00:00']);
    // 10:00 to 11:00 is still going on at 10:30; the earlier ones are over.
    expect(t.body.data?._entities[0].upcomingBookings[0]).toMatchObject({ date: TODAY, startTime: '10:00:00' });
    expect(ids(t.body.data?._entities[0].upcomingBookings)).toEqual(expectedUpcoming(gym, trainer.id, 5));

    const c = await call(q, { r: [userRep(client.id, [trainer.id])] }, await as(client));
    expect(c.body.errors).toBeUndefined();
    expect(ids(c.body.data?._entities[0].upcomingBookings)).toEqual(expectedUpcoming(gym, client.id, 5));
    expect(c.body.data?._entities[0].upcomingBookings.length).toBeGreaterThan(0);
  });

  it('filters and orders User.bookings newest first', async () => {
    const q = `${ENTITIES} ... on User { bookings(from: $from, to: $to, status: $status, first: $first) { id date status } } } }`.replace(
      'query($r: [_Any!]!)',
      'query($r: [_Any!]!, $from: Date, $to: Date, $status: BookingStatus, $first: Int)',
    );
    const token = await as(client);
    const all = await call(q, { r: [userRep(client.id)], first: 100 }, token);
    expect(all.body.errors).toBeUndefined();
    expect(ids(all.body.data?._entities[0].bookings)).toEqual(expectedBookings(gym, client.id, 100));
    expect(all.body.data?._entities[0].bookings).toHaveLength(8);

    const from = '2026-11-20';
    const to = TODAY;
    const done = await call(q, { r: [userRep(trainer.id)], from, to, status: 'COMPLETED', first: 3 }, await as(trainer));
    const expected = expectedBookings(gym, trainer.id, 3, (b) => b.date >= from && b.date <= to && b.status === 'COMPLETED');
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(done.body.data?._entities[0].bookings)).toEqual(expected);
  });

  it("lets a client see only their own schedule, and a trainer only their clients'", async () => {
    const q = `${ENTITIES} ... on User { id bookings(first: 2) { id } } } }`;
    const asOtherClient = await call(q, { r: [userRep(client.id, [trainer.id])] }, await as(otherClient));
    expect(asOtherClient.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(asOtherClient.body.data?._entities[0].bookings).toBeNull();

    const asTheirTrainer = await call(q, { r: [userRep(client.id, [trainer.id])] }, await as(trainer));
    expect(asTheirTrainer.body.errors).toBeUndefined();
    expect(ids(asTheirTrainer.body.data?._entities[0].bookings)).toEqual(expectedBookings(gym, client.id, 2));

    const asAnotherTrainer = await call(q, { r: [userRep(client.id, [trainer.id])] }, await as(otherTrainer));
    expect(asAnotherTrainer.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const asAdmin = await call(q, { r: [userRep(otherTrainer.id)] }, await as(admin));
    expect(ids(asAdmin.body.data?._entities[0].bookings)).toEqual(expectedBookings(gym, otherTrainer.id, 2));
  });

  it('loads the User lists of one user or a hundred in the same number of SQL statements', async () => {
    const token = await as(admin);
    const one = await counted(userSchedule, { r: [userRep(trainerOf(small).id)] }, token);
    expect(one.body.errors).toBeUndefined();
    const smallTrainer = trainerOf(small).id;
    expect(one.body.data?._entities[0]).toMatchObject({
      upcomingBookings: expectedUpcoming(small, smallTrainer, 3).map((id) => ({ id })),
      todaySchedule: expectedToday(small, smallTrainer).map((id) => ({ id })),
      bookings: expectedBookings(small, smallTrainer, 4).map((id) => ({ id })),
    });

    const people = large.users.filter((u) => u.role !== 'ADMIN');
    expect(Math.max(...people.map((u) => mine(large, u.id).length))).toBeGreaterThanOrEqual(300);
    const many = await counted(userSchedule, { r: people.map((u) => userRep(u.id)) }, token);
    expect(many.body.errors).toBeUndefined();
    expect(many.body.data?._entities).toHaveLength(people.length);
    many.body.data?._entities.forEach((e: { id: string; upcomingBookings: { id: string }[]; todaySchedule: { id: string }[]; bookings: { id: string }[] }) => {
      expect(ids(e.upcomingBookings)).toEqual(expectedUpcoming(large, e.id, 3));
      expect(ids(e.todaySchedule)).toEqual(expectedToday(large, e.id));
      expect(ids(e.bookings)).toEqual(expectedBookings(large, e.id, 4));
    });
    // One statement per field, however many users and bookings.
    expect(one.statements).toBe(3);
    expect(many.statements).toBe(one.statements);
  });

  it("lists a program's bookings the viewer is a party of, soonest first, in one statement", async () => {
    const program = gym.programs.find((p) => p.clientId === client.id && p.status === 'ACTIVE')!;
    const otherProgram = gym.programs.find((p) => p.clientId === otherClient.id && p.status === 'ACTIVE')!;
    const ofProgram = (programId: string, first = 20) =>
      gym.bookings
        .filter((b) => b.programId === programId)
        .sort(soonest)
        .slice(0, first)
        .map((b) => b.id);
    const q = `${ENTITIES} ... on Program { id bookings(first: 5) { id program { id } } } } }`;
    const r = [program.id, MISSING, otherProgram.id].map((id) => ({ __typename: 'Program', id }));

    const asAdmin = await counted(q, { r }, await as(admin));
    expect(asAdmin.body.errors).toBeUndefined();
    expect(asAdmin.body.data?._entities.map((p: { bookings: { id: string }[] }) => ids(p.bookings))).toEqual([
      ofProgram(program.id, 5),
      [],
      ofProgram(otherProgram.id, 5),
    ]);
    expect(asAdmin.body.data?._entities[0].bookings[0].program).toEqual({ id: program.id });
    expect(asAdmin.statements).toBe(1);

    const asClient = await call(q, { r }, await as(client));
    expect(asClient.body.data?._entities.map((p: { bookings: { id: string }[] }) => ids(p.bookings))).toEqual([ofProgram(program.id, 5), [], []]);
  });

  it('resolves cancellations with who cancelled and why', async () => {
    const cancelled = gym.bookings.find((b) => b.status === 'CANCELLED')!;
    const { body } = await call(
      'query($id: ID!) { booking(id: $id) { status cancellationReason cancelledBy { id } trainerNotes createdAt updatedAt } }',
      { id: cancelled.id },
      await as(admin),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.booking).toMatchObject({
      status: 'CANCELLED',
      cancellationReason: 'Client request',
      cancelledBy: { id: cancelled.clientId },
      trainerNotes: null,
    });
    expect(Date.parse(body.data?.booking.createdAt)).not.toBeNaN();
  });

  it("takes today from the gym's clock, not the database's", async () => {
    const tomorrow = '2026-11-24';
    const store = new ScheduleStore(db, pinnedClock(`${tomorrow}T00:30:00`));
    expect(store.now).toEqual({ date: tomorrow, time: '00:30:00' });
    const today = await store.todayOf(trainer.id);
    expect(today.map((b) => b.id)).toEqual(
      mine(gym, trainer.id)
        .filter((b) => b.date === tomorrow)
        .sort(soonest)
        .map((b) => b.id),
    );
    expect(today.length).toBeGreaterThan(0);
  });
});

describe('demo seed', () => {
  it("books the demo trainer's sessions for the clock's today", async () => {
    const t = await openTestDatabase('schedule', scheduleSubgraph.migrationsDir, 'pglite');
    try {
      // The last day of a month, a Sunday, just before midnight: the day the demo gym is generated for is the clock's.
      const late = pinnedClock('2027-01-31T23:59:30');
      await seedDemo(t.db, undefined, late);
      const trainerId = demoGym('2027-01-31').users.find((u) => u.email === DEMO_LOGINS.trainer)!.id;
      const store = new ScheduleStore(t.db, late);
      expect(store.now).toEqual({ date: '2027-01-31', time: '23:59:30' });
      expect((await store.todayOf(trainerId)).length).toBe(4);
      expect((await store.upcomingOf(trainerId, 100)).length).toBeGreaterThan(4);
    } finally {
      await t.dispose();
    }
  });

  it('reads the local wall clock', () => {
    expect(gymTime(new Date(2026, 10, 23, 23, 59, 5))).toEqual({ date: '2026-11-23', time: '23:59:05' });
  });
});
