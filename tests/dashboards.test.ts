import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { gymTime } from '@fitsync/service-kit/clock';
import { storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

// 07:30 on a Sunday that ends a month: the demo client's first session of the day is under way.
const { clock, today } = testClock('inSession');
const now = gymTime(clock()).time;
const gym = demoGym(today);
const user = (email: string) => gym.users.find((u) => u.email === email)!;
const client = user(DEMO_LOGINS.client);
const trainer = user(DEMO_LOGINS.trainer);
const nameOf = (id: string) => gym.users.find((u) => u.id === id)!.name;

describe.each(storageBackends())('dashboards through the gateway on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  const login = async (email: string) => {
    const res = await platform.query('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }', {
      e: email,
      p: 'fitsync-demo',
    });
    expect(res.errors).toBeUndefined();
    return res.data.login.token as string;
  };

  it('serves ClientDashboard to the demo client in one request, with data from all five subgraphs', async () => {
    const token = await login(DEMO_LOGINS.client);
    const res = await platform.query(operation('ClientDashboard'), {}, token);
    expect(res.errors).toBeUndefined();
    const me = res.data.me;
    expect(me).toMatchObject({ id: client.id, name: client.name, email: client.email, role: 'CLIENT' });
    expect(me.clientProfile.fitnessLevel).toBe(client.clientProfile!.fitnessLevel);

    const active = gym.programs.filter((p) => p.clientId === client.id && p.status === 'ACTIVE');
    expect(me.activePrograms.map((p: { id: string }) => p.id).sort()).toEqual(active.map((p) => p.id).sort());
    for (const p of me.activePrograms) {
      const seeded = active.find((a) => a.id === p.id)!;
      expect(p.trainer).toEqual({ id: seeded.trainerId, name: nameOf(seeded.trainerId) });
      expect(p.adherence.completedSessions).toBe(gym.workoutLogs.filter((l) => l.programId === p.id).length);
    }

    const upcoming = gym.bookings
      .filter((b) => b.clientId === client.id && b.status === 'CONFIRMED' && (b.date > today || (b.date === today && b.endTime > now)))
      .sort((a, b) => (a.date + a.startTime).localeCompare(b.date + b.startTime))
      .slice(0, 5);
    expect(me.upcomingBookings.map((b: { id: string }) => b.id)).toEqual(upcoming.map((b) => b.id));
    for (const b of me.upcomingBookings) expect(b.trainer.name).toBe(nameOf(upcoming.find((u) => u.id === b.id)!.trainerId));

    expect(me.progress.totalWorkouts).toBe(gym.workoutLogs.filter((l) => l.clientId === client.id).length);
    const weights = gym.bodyMetrics.filter((m) => m.clientId === client.id).sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime());
    expect(me.progress.latestWeightKg).toBeCloseTo(weights[0].weightKg, 5);

    const achievements = gym.achievements.filter((a) => a.clientId === client.id);
    expect(me.achievements.map((a: { id: string }) => a.id).sort()).toEqual(
      achievements
        .slice(0, 5)
        .map((a) => a.id)
        .sort(),
    );
    expect(me.unreadNotificationCount).toBe(gym.notifications.filter((n) => n.recipientId === client.id && !n.read).length);
  });

  it('serves TrainerDashboard to the demo trainer: today, upcoming sessions, clients with progress, programs', async () => {
    const token = await login(DEMO_LOGINS.trainer);
    const res = await platform.query(operation('TrainerDashboard'), {}, token);
    expect(res.errors).toBeUndefined();
    const me = res.data.me;
    expect(me).toMatchObject({ id: trainer.id, name: trainer.name, role: 'TRAINER' });
    expect(me.trainerProfile.specializations).toEqual(trainer.trainerProfile!.specializations);

    const todays = gym.bookings
      .filter((b) => b.trainerId === trainer.id && b.date === today && b.status !== 'CANCELLED')
      .sort((a, b) => a.startTime.localeCompare(b.startTime));
    expect(todays.length).toBeGreaterThan(0);
    expect(me.todaySchedule.map((b: { id: string }) => b.id)).toEqual(todays.map((b) => b.id));
    for (const b of me.todaySchedule) expect(b.client.name).toBe(nameOf(todays.find((t) => t.id === b.id)!.clientId));

    const clientIds = [...new Set(gym.programs.filter((p) => p.trainerId === trainer.id && p.status === 'ACTIVE').map((p) => p.clientId))];
    expect(me.clients.map((c: { id: string }) => c.id).sort()).toEqual(clientIds.sort());
    for (const c of me.clients) {
      expect(c.name).toBe(nameOf(c.id));
      expect(c.clientProfile.fitnessLevel).toBeTruthy();
      expect(c.progress).not.toBeNull();
      const latest = gym.bodyMetrics.filter((m) => m.clientId === c.id).sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime())[0];
      expect(c.progress.latestWeightKg).toBeCloseTo(latest.weightKg, 5);
    }
    const programs = gym.programs.filter((p) => p.trainerId === trainer.id && p.status === 'ACTIVE');
    expect(me.programs.map((p: { id: string }) => p.id).sort()).toEqual(programs.map((p) => p.id).sort());
    expect(me.upcomingBookings.length).toBeGreaterThan(0);
    expect(me.upcomingBookings.length).toBeLessThanOrEqual(10);
  });
});
