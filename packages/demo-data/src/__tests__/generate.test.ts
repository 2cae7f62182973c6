// Every subgraph seeds its own slice of the same gym and they line up only because the
// same options give the same gym. These hashes were taken from generateGym before it was
// split into steps: a change to the generator that moves one id or one row fails here.
// Consent (coaching relationships, trainer approval) came later and is hashed apart: adding it
// moved nothing that was there before.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { demoGym, generateGym, type Gym } from '../index.js';

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
/** The gym as generated before consent existed. */
const hash = ({ coaching: _added, ...gym }: Gym) => sha({ ...gym, users: gym.users.map(({ approvedAt: _approved, ...u }) => u) });
/** What consent added: the accepted relationships and when trainers were approved. */
const consent = (gym: Gym) => sha({ coaching: gym.coaching, approved: gym.users.map((u) => u.approvedAt ?? null) });

describe('generateGym is deterministic', () => {
  it('gives the demo gym of a day, id for id and row for row', () => {
    const gym = demoGym('2027-01-31');
    expect(hash(gym)).toBe('6bdded87f67849461f381942e7e666f33cd0b8643a3f18d0cde98d0d0f72ef30');
    expect(gym.gymId).toBe('97da2849-d73e-4438-a907-d090402c802d');
    expect(gym.users[0].id).toBe('7c570089-3a34-4d83-841a-abe1f6f21057');
    expect(gym.notifications.at(-1)!.id).toBe('3f41ed19-f09c-4fd5-9e74-72abdbb447bc');
    const counts = Object.fromEntries(Object.entries(gym).map(([k, v]) => [k, Array.isArray(v) ? v.length : v]));
    expect(counts).toEqual({
      gymId: gym.gymId,
      users: 16,
      coaching: 12,
      programs: 18,
      bookings: 96,
      bodyMetrics: 132,
      workoutLogs: 41,
      achievements: 16,
      goals: 12,
      notifications: 46,
    });
    expect(consent(gym)).toBe('41ef09495a17178bc008c47ff9e069a24579fb382bfab023fe6a9419aa6af452');
  });

  it('seeds an accepted relationship for every trainer and client with a program, and approves every trainer', () => {
    const gym = generateGym({ trainers: 4, clients: 30, bookingsPerClient: 2, today: '2026-11-23', seed: 3, demoLogins: true });
    const pairs = new Set(gym.programs.map((p) => `${p.trainerId}:${p.clientId}`));
    expect(new Set(gym.coaching.map((c) => `${c.trainerId}:${c.clientId}`))).toEqual(pairs);
    expect(gym.coaching).toHaveLength(pairs.size);
    expect(new Set(gym.coaching.map((c) => c.id)).size).toBe(gym.coaching.length);
    for (const c of gym.coaching) {
      const first = gym.programs
        .filter((p) => p.trainerId === c.trainerId && p.clientId === c.clientId)
        .map((p) => p.startDate)
        .sort()[0];
      expect(c.acceptedAt.getTime()).toBeGreaterThan(c.requestedAt.getTime());
      expect(c.acceptedAt.toISOString().slice(0, 10) < first).toBe(true);
    }
    expect(gym.users.filter((u) => u.role === 'TRAINER').every((u) => u.approvedAt instanceof Date)).toBe(true);
    expect(gym.users.filter((u) => u.role !== 'TRAINER').some((u) => u.approvedAt)).toBe(false);
  });

  it.each([
    [
      'without demo logins, 12 slots a day',
      { trainers: 5, clients: 40, bookingsPerClient: 10, today: '2026-11-23', seed: 7 },
      '71a7fd2f74b6e219d6b0940c8be5b35b42275e785cac564f2f35b2fdd837d4b2',
    ],
    [
      'no bookings, a leap day, one slot a day',
      { trainers: 2, clients: 3, bookingsPerClient: 0, today: '2024-02-29', demoLogins: true, slotsPerDay: 1 },
      '729338a22fcb4e3c33b909a17752beb859eb17c21bab7f1fd61abbbbf496cc1f',
    ],
    [
      'a benchmark-sized gym',
      { trainers: 3, clients: 100, bookingsPerClient: 50, today: '2026-11-25', seed: 1, demoLogins: true },
      '418480fd923f74a055e15bef9e7bcd08e6f49a31dc682bd795ced6dbed4a5a4c',
    ],
  ])('gives the same gym for the same options: %s', (_, opts, expected) => {
    expect(hash(generateGym(opts))).toBe(expected);
    expect(consent(generateGym(opts))).toBe(consent(generateGym(opts)));
  });
});
