import { randomBytes } from 'node:crypto';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { createRedisLiveBus, type LiveBus } from '@fitsync/live';
import type { RunningGateway } from '@fitsync/gateway';
import { redisUrlForTests, testClock, storageBackends } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const redisUrl = redisUrlForTests();
const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const QUERY = 'subscription { unreadNotificationCountChanged }';
const counts = (sub: LiveSubscription) => sub.events.map((e) => e.data?.unreadNotificationCountChanged as number);

describe.runIf(redisUrl).each(storageBackends())('live subscriptions across processes over Redis on %s', (backend) => {
  const prefix = `t_live_${randomBytes(4).toString('hex')}`;
  const channel = `${prefix}:live:unreadNotificationCountChanged`;
  let platform: Platform;
  let second: RunningGateway;
  const buses: LiveBus[] = [];
  let publishers: LiveBus[];
  let admin: Redis;
  let token: string;
  let subs: LiveSubscription[];

  const subscribers = async () => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1];

  beforeAll(async () => {
    admin = new Redis(redisUrl!);
    const bus = () => {
      const b = createRedisLiveBus(redisUrl!, prefix);
      buses.push(b);
      return b;
    };
    // Two gateways, each with its own connections, and two publishing "notifications replicas".
    platform = await startPlatform(backend, [gym], { clock, gateway: { live: { bus: bus() } } });
    second = await platform.startGateway({ live: { bus: bus() } });
    publishers = [bus(), bus()];
    token = await platform.tokenFor({ id: client.id, role: 'CLIENT' });
    subs = [subscribeWs(platform.gatewayUrl, token, QUERY), subscribeWs(second.url, token, QUERY)];
    await until(() => platform.gateway.live!.active() === 1 && second.live!.active() === 1, 10_000, 'a subscription on each gateway');
    await vi.waitFor(async () => expect(await subscribers()).toBe(2), { timeout: 10_000, interval: 20 });
  });
  afterAll(async () => {
    await Promise.all((subs ?? []).map((s) => s.dispose()));
    await platform?.close();
    await Promise.all(buses.map((b) => b.close()));
    admin?.disconnect();
  });

  /**
   * Publishes `marker` and waits until both clients have it: everything published before it
   * has then been delivered (Redis delivers in publish order, the gateway in arrival order).
   */
  const drain = async (marker: number) => {
    await publishers[0].publish('unreadNotificationCountChanged', { user_id: client.id, count: marker });
    await vi.waitFor(() => expect(subs.every((s) => counts(s).includes(marker))).toBe(true), { timeout: 10_000 });
  };

  it('delivers every event of either publisher to a client on either gateway exactly once', async () => {
    expect(await subscribers()).toBe(2);
    await drain(-1);
    subs.forEach((s) => (s.events.length = 0));
    for (let count = 1; count <= 20; count++) {
      await publishers[count % 2].publish('unreadNotificationCountChanged', { user_id: client.id, count });
    }
    // Positive control for "no duplicate": a 21st event, published after, arrives right after the 20th.
    await drain(21);
    const expected = Array.from({ length: 21 }, (_, i) => i + 1);
    expect(counts(subs[0])).toEqual(expected);
    expect(counts(subs[1])).toEqual(expected);
  });

  it('carries on without the client reconnecting when the Redis connections drop', async () => {
    const ours = async (): Promise<string[]> =>
      String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${prefix}:live:`))
        .map((line) => /\bid=(\d+)/.exec(line)![1]);
    const before = await ours();
    expect(before).toHaveLength(8);
    for (const id of before) await admin.client('KILL', 'ID', id);

    // Pub/sub drops what is published while a subscriber is away: publish until it is back.
    subs.forEach((s) => (s.events.length = 0));
    let count = 100;
    await vi.waitFor(
      async () => {
        await publishers[0].publish('unreadNotificationCountChanged', { user_id: client.id, count: count++ });
        expect(subs.every((s) => s.events.length > 0)).toBe(true);
      },
      { timeout: 15_000, interval: 50 },
    );
    const after = await ours();
    expect(after).toHaveLength(8);
    expect(after.filter((id) => before.includes(id))).toEqual([]);

    // Back to exactly once, on the same client connections (what the loop published is through first).
    await drain(-2);
    subs.forEach((s) => (s.events.length = 0));
    await publishers[1].publish('unreadNotificationCountChanged', { user_id: client.id, count: 999 });
    await drain(1000);
    expect(counts(subs[0])).toEqual([999, 1000]);
    expect(counts(subs[1])).toEqual([999, 1000]);
    expect(subs.map((s) => s.closed)).toEqual([undefined, undefined]);
  });
});
