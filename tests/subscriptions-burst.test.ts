import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { demoGym } from '@fitsync/demo-data';
import { DEFAULT_MAX_CONCURRENT_EVENTS } from '@fitsync/gateway';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);

// bench:subscriptions at 1,000 subscribers: a burst of live events sent up to 256 primary fetches
// at once, each on a new connection to the subgraph; a busy subgraph accepted them seconds late and
// hundreds of messages passed the subgraph deadline unanswered. A burst now opens no more
// connections than the gateway resolves events at once.
describe.each(storageBackends())('a burst of live events (in-process bus) on %s', (backend) => {
  const SUBSCRIBERS = 2 * DEFAULT_MAX_CONCURRENT_EVENTS + 16;
  const PER_SUBSCRIBER = 5;
  let platform: Platform;
  let bus: LiveBus;
  const subs: { user: string; sub: LiveSubscription }[] = [];
  beforeAll(async () => {
    bus = createInProcessLiveBus();
    platform = await startPlatform(backend, [gym], { clock, gateway: { live: { bus } } });
  });
  afterAll(async () => {
    await Promise.all(subs.map(({ sub }) => sub.dispose()));
    await platform?.close();
    await bus?.close();
  });

  it('reaches every subscriber in order over at most as many subgraph connections as events resolved at once', async () => {
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const user = randomUUID();
      const token = await platform.tokenFor({ id: user, role: 'CLIENT' });
      subs.push({ user, sub: subscribeWs(platform.gatewayUrl, token, 'subscription { unreadNotificationCountChanged }') });
    }
    await until(() => platform.gateway.live!.active() === SUBSCRIBERS, 10_000, `${SUBSCRIBERS} subscriptions`);

    const opened: Socket[] = [];
    const server = platform.subgraphs.notifications.server;
    const count = (socket: Socket) => opened.push(socket);
    server.on('connection', count);
    try {
      // All at once, as a broker hands over a backlog: one event per subscriber at a time is in flight.
      for (let n = 0; n < PER_SUBSCRIBER; n++) for (const { user } of subs) void bus.publish('unreadNotificationCountChanged', { user_id: user, count: n });
      await until(() => subs.every(({ sub }) => sub.events.length >= PER_SUBSCRIBER), 20_000, 'every event delivered');
    } finally {
      server.off('connection', count);
    }

    for (const { sub } of subs) {
      expect(sub.errors).toEqual([]);
      expect(sub.events.map((e) => e.data?.unreadNotificationCountChanged)).toEqual([0, 1, 2, 3, 4]);
    }
    // Before: one new connection per subscriber in flight (SUBSCRIBERS of them).
    expect(opened.length).toBeLessThanOrEqual(DEFAULT_MAX_CONCURRENT_EVENTS);
  });
});
