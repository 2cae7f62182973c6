import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
/** What an answer must not tell a client about the inside: addresses, ports, URLs, socket errors. */
const INTERNALS = /127\.0\.0\.1|localhost|\[::1\]|https?:\/\/|ECONN|ETIMEDOUT|EHOSTUNREACH|fetch failed/i;

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
    // each error says which part of the screen it emptied
    const paths = res.errors!.map((e) => e.path);
    expect(paths).toContainEqual(['me', 'progress']);
    expect(paths).toContainEqual(['me', 'achievements']);
    for (const e of res.errors!) {
      expect(e.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(e.path?.length).toBeGreaterThan(0);
      expect(JSON.stringify(e)).not.toMatch(/ECONNREFUSED.*\n\s+at /);
    }
    // nothing says where the subgraph lives or how the connection failed
    expect(JSON.stringify(res)).not.toMatch(INTERNALS);

    // a mutation it owns answers the same way
    const write = await platform.query('mutation { recordBodyMetrics(input: { weightKg: 80 }) { id } }', {}, token);
    expect(write.errors?.[0]).toMatchObject({
      message: 'The progress service is unavailable',
      extensions: { code: 'SERVICE_UNAVAILABLE', service: 'progress' },
    });
    expect(JSON.stringify(write)).not.toMatch(INTERNALS);
  });
});
