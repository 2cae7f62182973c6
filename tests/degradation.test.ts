import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;

describe.each(storageBackends())('a subgraph that is down on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('empties only its part of ClientDashboard, with an error entry saying so', async () => {
    const token = await platform.tokenFor(client);
    const healthy = await platform.query(operation('ClientDashboard'), {}, token);
    expect(healthy.errors).toBeUndefined();

    await platform.stop('progress');
    const res = await platform.query(operation('ClientDashboard'), {}, token);
    const me = res.data.me;
    // everything the other four subgraphs own is still there
    expect(me.name).toBe(client.name);
    expect(me.activePrograms.map((p: { id: string }) => p.id)).toEqual(healthy.data.me.activePrograms.map((p: { id: string }) => p.id));
    expect(me.activePrograms[0].trainer.name).toBe(healthy.data.me.activePrograms[0].trainer.name);
    expect(me.upcomingBookings).toEqual(healthy.data.me.upcomingBookings);
    expect(me.unreadNotificationCount).toBe(healthy.data.me.unreadNotificationCount);
    // what progress owns is null, and the errors say which service failed
    expect(me.progress).toBeNull();
    expect(me.achievements).toBeNull();
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors!) {
      expect(e.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(e)).not.toMatch(/ECONNREFUSED.*\n\s+at /);
    }
  });
});
