import { randomBytes } from 'node:crypto';
import { redisUrlForTests } from '@fitsync/service-kit/testing';
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
    try {
      const received = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const bus = createRedisLiveBus(redisUrl!, prefix);
          buses.push(bus);
          await new Promise((r) => setTimeout(r, i % 10));
          const iterator = bus.subscribe('unreadNotificationCountChanged');
          const first = iterator.next();
          return { bus, first };
        }),
      );
      // Every subscription is in place once its first next() has subscribed; publish until all have one.
      const deadline = Date.now() + 5_000;
      const got = new Array<unknown>(received.length);
      received.forEach(({ first }, i) => void first.then((r) => (got[i] = r.value)));
      while (got.filter(Boolean).length < received.length && Date.now() < deadline) {
        await buses[0]!.publish('unreadNotificationCountChanged', { user_id: 'someone', count: 7 });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got).toEqual(received.map(() => ({ user_id: 'someone', count: 7 })));
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });
});
