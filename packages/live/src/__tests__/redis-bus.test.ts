import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { redisUrlForTests } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisLiveBus } from '../redis-bus.js';
import type { LiveBus } from '../bus.js';

const redisUrl = redisUrlForTests();

describe.runIf(redisUrl)('Redis live bus', () => {
  // A gateway subscribes to its topics while its connections are still starting; whenever
  // that happens, the subscription must work (ioredis's ready check once killed it).
  it('delivers to subscriptions made at any moment of the connection start-up', async () => {
    const prefix = `test_live_${randomBytes(4).toString('hex')}`;
    const buses: LiveBus[] = [];
    const redis = new Redis(redisUrl!);
    try {
      const received = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const bus = createRedisLiveBus(redisUrl!, prefix);
          buses.push(bus);
          // Not a wait for anything: it spreads the subscriptions over the connections' start-up.
          await new Promise((r) => setTimeout(r, i % 10));
          const iterator = bus.subscribe('unreadNotificationCountChanged');
          const first = iterator.next();
          return { bus, first };
        }),
      );
      // Every subscriber connection has subscribed (a subscriber the ready check killed never does);
      // a message published after that reaches each of them.
      const channel = `${prefix}:live:unreadNotificationCountChanged`;
      await expect.poll(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1], { timeout: 5_000 }).toBe(received.length);
      await buses[0].publish('unreadNotificationCountChanged', { user_id: 'someone', count: 7 });
      const got = await Promise.all(received.map(({ first }) => first.then((r) => r.value)));
      expect(got).toEqual(received.map(() => ({ user_id: 'someone', count: 7 })));
    } finally {
      await Promise.all(buses.map((b) => b.close()));
      redis.disconnect();
    }
  });

  // Redis answers a SUBSCRIBE and then sends the channel's messages on the same socket. When the
  // process is slow to read (a loaded machine), the confirmation and the first message arrive in
  // one read: graphql-redis-subscriptions records the subscription in a callback that runs after
  // the read is parsed, and dropped a message parsed in the same read as "no subscriber". Here
  // the process is held (spawnSync) while a second process waits for Redis to count the
  // subscription and publishes, so both answers are waiting when it reads again.
  it('delivers a message that arrives in the same read as the subscription confirmation', async () => {
    const prefix = `test_live_${randomBytes(4).toString('hex')}`;
    const bus = createRedisLiveBus(redisUrl!, prefix);
    try {
      // The subscriber connection is up and subscribed to something else first, so the SUBSCRIBE
      // under test is written at once rather than queued for the connection.
      const warm = bus.subscribe('unreadNotificationCountChanged');
      const warmed = warm.next();
      await expect
        .poll(async () => {
          await bus.publish('unreadNotificationCountChanged', { user_id: 'warm', count: 1 });
          return Promise.race([warmed.then(() => true), new Promise((r) => setImmediate(() => r(false)))]);
        })
        .toBe(true);

      const iterator = bus.subscribe('notificationAdded');
      const first = iterator.next(); // writes the SUBSCRIBE now
      const channel = `${prefix}:live:notificationAdded`;
      const payload = { notification_id: 'n1', recipient_id: 'someone' };
      const helper = `
        const { Redis } = require('ioredis');
        const r = new Redis(${JSON.stringify(redisUrl)});
        (async () => {
          while (((await r.pubsub('NUMSUB', ${JSON.stringify(channel)}))[1]) < 1);
          await r.publish(${JSON.stringify(channel)}, ${JSON.stringify(JSON.stringify(payload))});
          r.disconnect();
        })().catch((err) => { console.error(err); process.exit(1); });`;
      const ran = spawnSync(process.execPath, ['-e', helper], { cwd: import.meta.dirname, encoding: 'utf8', timeout: 20_000 });
      expect(ran.status, ran.stderr).toBe(0);
      const delivered = await Promise.race([
        first,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the message published after the subscription was never delivered')), 5_000)),
      ]);
      expect(delivered.value).toEqual(payload);
      await iterator.return?.();
      await warm.return?.();
    } finally {
      await bus.close();
    }
  });
});
