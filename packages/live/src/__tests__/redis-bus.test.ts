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
});
