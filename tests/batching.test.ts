import { generateGym } from '@fitsync/demo-data';
import type { SubgraphName } from '@fitsync/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
// A trainer with one client and 5 bookings, and one with 10 clients and 500 bookings,
// both with sessions yesterday, today and tomorrow so every part of the dashboard has rows.
const small = generateGym({ trainers: 1, clients: 1, bookingsPerClient: 5, today, seed: 7, slotsPerDay: 2 });
const large = generateGym({ trainers: 1, clients: 10, bookingsPerClient: 50, today, seed: 8 });
for (const u of large.users) u.email = `large-${u.email}`;
const trainerOf = (gym: typeof small) => gym.users.find((u) => u.role === 'TRAINER')!;

describe.each(storageBackends())('batched references on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend, [small, large], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  const statementsFor = async (trainer: { id: string }) => {
    const before = Object.fromEntries(Object.entries(platform.databases).map(([n, db]) => [n, db.stats.statements]));
    const res = await platform.query(operation('TrainerDashboard'), {}, await platform.tokenFor({ id: trainer.id, role: 'TRAINER' }));
    expect(res.errors).toBeUndefined();
    const used = Object.fromEntries(Object.entries(platform.databases).map(([n, db]) => [n, db.stats.statements - before[n]])) as Record<SubgraphName, number>;
    return { used, me: res.data.me };
  };

  it('makes the same number of SQL statements per subgraph for 5 bookings as for 500', async () => {
    expect(large.bookings.filter((b) => b.trainerId === trainerOf(large).id)).toHaveLength(500);
    expect(small.bookings.filter((b) => b.trainerId === trainerOf(small).id)).toHaveLength(5);

    const a = await statementsFor(trainerOf(small));
    const b = await statementsFor(trainerOf(large));
    expect(a.me.clients).toHaveLength(1);
    expect(b.me.clients).toHaveLength(10);
    expect(b.me.todaySchedule.length).toBeGreaterThan(a.me.todaySchedule.length);
    expect(b.used).toEqual(a.used);
    // and that number is small: a few statements per subgraph, not one per row
    for (const n of Object.values(b.used)) expect(n).toBeLessThanOrEqual(6);
  });
});
