// Two notifications replicas (this process and a real second OS process on the same
// Postgres schema), two gateways, one Redis: each booking's event is handled by one
// replica of the consumer group, and its notification reaches the client's subscriptions
// on both gateways exactly once, whichever replica raised it.
import { randomUUID } from 'node:crypto';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import type { RunningGateway } from '@fitsync/gateway';
import { REQUIRE_SERVICES, TEST_JWT_SECRET, TEST_SERVICE_SECRET, redisUrlForTests, storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';
import { spawnService, type ServiceProcess } from './support/service-process.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;
const gymId = gym.bookings[0].gymId;
const day = addDays(TODAY, 9);
const hours = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19].filter((h) =>
  gym.bookings.every(
    (b) =>
      b.date !== day ||
      (b.trainerId !== trainer.id && b.clientId !== client.id) ||
      b.endTime <= `${String(h).padStart(2, '0')}:00` ||
      b.startTime >= `${String(h + 1).padStart(2, '0')}:00`,
  ),
);

const runnable = storageBackends().includes('postgres') && (Boolean(process.env.REDIS_URL) || REQUIRE_SERVICES);

describe.runIf(runnable)('notifications replicas in two processes, two gateways, Redis', () => {
  let platform: Platform;
  let second: RunningGateway;
  let replica: ServiceProcess;
  let replicaUrl: string;
  const subs: LiveSubscription[] = [];
  let booked = 0;

  async function book(n: number) {
    for (let i = 0; i < n; i++) {
      const h = hours[booked++];
      const res = await platform.query(
        'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
        {
          i: {
            clientId: client.id,
            trainerId: trainer.id,
            gymId,
            date: day,
            startTime: `${String(h).padStart(2, '0')}:00`,
            endTime: `${String(h + 1).padStart(2, '0')}:00`,
          },
        },
        await platform.tokenFor(trainer),
      );
      expect(res.errors).toBeUndefined();
    }
  }
  const handledBy = async (url: string) => {
    const text = await (await fetch(new URL('/metrics', url))).text();
    return [...text.matchAll(/^fitsync_events_handled_total\{[^}]*channel="booking\.created"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const titles = (s: LiveSubscription) => s.events.map((e) => e.data?.notificationAdded?.type);

  beforeAll(async () => {
    const redisUrl = redisUrlForTests()!;
    platform = await startPlatform('postgres', [gym], { clock, transport: 'redis' });
    second = await platform.startGateway();
    const schema = platform.databases.notifications.location.split('@')[0];
    replica = await spawnService('subgraphs/notifications/src/index.ts', {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      NOTIFICATIONS_PORT: '0',
      DATABASE_URL: process.env.DATABASE_URL,
      DB_SCHEMA: schema,
      REDIS_URL: redisUrl,
      EVENTS_PREFIX: platform.eventsPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      SEED_DEMO: 'never',
      LOG_LEVEL: 'warn',
    });
    replicaUrl = `http://127.0.0.1:${replica.port}`;
    await vi.waitFor(async () => expect((await fetch(new URL('/ready', replicaUrl))).status).toBe(200), { timeout: 30_000, interval: 200 });
    const token = await platform.tokenFor(client);
    const query = 'subscription { notificationAdded { type booking { date trainer { name } } } }';
    subs.push(subscribeWs(platform.gatewayUrl, token, query), subscribeWs(second.url, token, query));
    await until(() => platform.gateway.live!.active() === 1 && second.live!.active() === 1, 10_000, 'a subscription on each gateway');
  }, 60_000);
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.dispose()));
    await replica?.stop();
    await platform?.close();
  });

  it('delivers each notification once on each gateway, whichever replica handled the event', async () => {
    // Only the second process consumes: the one in this process stops reading.
    await platform.subgraphs.notifications.events.consumer!.stop();
    await book(3);
    await platform.settle(30_000);
    expect(await handledBy(replicaUrl)).toBe(3);

    // Now only this process's replica: the second one stops (SIGTERM, a graceful stop).
    await replica.stop();
    await platform.restart('notifications');
    await book(3);
    await platform.settle(30_000);
    expect(await handledBy(platform.subgraphs.notifications.url)).toBe(3);

    await Promise.all(subs.map((s) => s.waitFor(6, 10_000)));
    // Positive control for "exactly once": a seventh message, published after the six, arrives
    // on each gateway right after them, with no duplicate of the six before it.
    const marker = randomUUID();
    await platform.databases.notifications.query(
      `INSERT INTO notifications (id, recipient_id, type, title, message) VALUES ($1, $2, 'PROFILE_UPDATED', 'Marker', 'After the six')`,
      [marker, client.id],
    );
    await platform.subgraphs.notifications.live.publish('notificationAdded', { notification_id: marker, recipient_id: client.id });
    await Promise.all(subs.map((s) => s.waitFor(7, 10_000)));
    for (const s of subs) {
      expect(titles(s)).toEqual([...Array(6).fill('BOOKING_CREATED'), 'PROFILE_UPDATED']);
      s.events.pop();
      expect(s.events.every((e) => e.data.notificationAdded.booking.trainer.name === trainer.name)).toBe(true);
    }
    const bookings = (
      await platform.databases.schedule.query<{ id: string }>('SELECT id FROM bookings WHERE date = $1 AND client_id = $2', [day, client.id])
    ).map((b) => b.id);
    expect(bookings).toHaveLength(6);
    const perBooking = await platform.databases.notifications.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM notifications WHERE type = 'BOOKING_CREATED' AND recipient_id = $1 AND booking_id = ANY($2::uuid[]) GROUP BY booking_id",
      [client.id, bookings],
    );
    expect(perBooking.map((r) => r.n)).toEqual([1, 1, 1, 1, 1, 1]);
  }, 90_000);
});
