import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const demoClient = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const demoTrainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;
const admin = gym.users.find((u) => u.email === DEMO_LOGINS.admin)!;
const trainerOf = (clientId: string) => gym.programs.find((p) => p.clientId === clientId && p.status === 'ACTIVE')!.trainerId;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== demoClient.id && trainerOf(u.id) === demoTrainer.id)!;
const strangerClient = gym.users.find((u) => u.role === 'CLIENT' && trainerOf(u.id) !== demoTrainer.id)!;

const PRIVATE = `query($id: ID!) { user(id: $id) { id name
  clientProfile { fitnessLevel } upcomingBookings { id } progress { totalWorkouts }
  achievements { id } notifications { id } activePrograms { id } } }`;

const codes = (res: { errors?: { extensions?: Record<string, any>; path?: (string | number)[] }[] }) =>
  Object.fromEntries((res.errors ?? []).map((e) => [String(e.path?.at(-1)), e.extensions?.code]));

describe.each(storageBackends())('access rules across the graph on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("refuses a client another client's data, field by field, and still shows the public profile", async () => {
    const res = await platform.query(PRIVATE, { id: otherClient.id }, await platform.tokenFor(demoClient));
    expect(res.data.user).toMatchObject({ id: otherClient.id, name: otherClient.name, upcomingBookings: null, progress: null, notifications: null });
    expect(codes(res)).toMatchObject({
      clientProfile: 'FORBIDDEN',
      upcomingBookings: 'FORBIDDEN',
      progress: 'FORBIDDEN',
      achievements: 'FORBIDDEN',
      notifications: 'FORBIDDEN',
      activePrograms: 'FORBIDDEN',
    });
  });

  it("refuses a trainer a stranger's data but shows their own client's", async () => {
    const token = await platform.tokenFor(demoTrainer);
    const stranger = await platform.query(PRIVATE, { id: strangerClient.id }, token);
    expect(codes(stranger)).toMatchObject({ clientProfile: 'FORBIDDEN', upcomingBookings: 'FORBIDDEN', progress: 'FORBIDDEN' });

    const own = await platform.query(
      'query($id: ID!) { user(id: $id) { clientProfile { fitnessLevel } upcomingBookings { id } progress { totalWorkouts } } }',
      { id: otherClient.id },
      token,
    );
    expect(own.errors).toBeUndefined();
    expect(own.data.user.progress.totalWorkouts).toBe(gym.workoutLogs.filter((l) => l.clientId === otherClient.id).length);
    expect(own.data.user.clientProfile.fitnessLevel).toBe(otherClient.clientProfile!.fitnessLevel);
  });

  it('lets an admin see everything', async () => {
    const res = await platform.query(
      PRIVATE.replace('notifications { id }', 'unreadNotificationCount'),
      { id: strangerClient.id },
      await platform.tokenFor(admin),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.user.progress.totalWorkouts).toBe(gym.workoutLogs.filter((l) => l.clientId === strangerClient.id).length);
  });

  it('answers bad tokens, malformed ids and unknown ids with their codes', async () => {
    const bad = await platform.query('{ me { id } }', {}, 'not-a-jwt');
    expect(bad.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const token = await platform.tokenFor(demoClient);
    const malformed = await platform.query('{ booking(id: "1 OR 1=1") { id } }', {}, token);
    expect(malformed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await platform.query('{ program(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, token);
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const othersBooking = gym.bookings.find((b) => b.clientId === strangerClient.id)!;
    const forbidden = await platform.query('query($id: ID!) { booking(id: $id) { id } }', { id: othersBooking.id }, token);
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    for (const r of [bad, malformed, unknown, forbidden]) expect(JSON.stringify(r)).not.toMatch(/\bat .+\.ts:\d+/);
  });
});
