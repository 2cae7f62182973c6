// What only Redis does: connections that drop (a Redis restart) and stream trimming.
import { randomUUID } from 'node:crypto';
import { redisUrlForTests } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, streamKeys } from '../index.js';
import { Harness, TestDatabases, reminder } from './fixtures/harness.js';

const redisUrl = redisUrlForTests();

describe.runIf(redisUrl)('Redis Streams transport', () => {
  let dbs: TestDatabases;
  let redis: Redis;
  beforeAll(async () => {
    dbs = await new TestDatabases('pglite').init();
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await redis?.quit();
    await dbs?.close();
  });

  it('goes on delivering after its connections were dropped', async () => {
    const h = await new Harness('redis', dbs, redisUrl).init();
    try {
      const consumer = await h.consumer();
      const publisher = await h.publisher();
      await h.emit(publisher, [randomUUID()]);
      await publisher.idle();
      await consumer.idle();
      // As when Redis restarts: every connection of this transport is closed under it.
      const list = (await redis.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((l) => l.includes(`name=${h.prefix}`))
        .map((l) => /id=(\d+)/.exec(l)![1]);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      for (const id of ids) await redis.client('KILL', 'ID', id);

      const after = await h.emit(publisher, [randomUUID(), randomUUID()]);
      await publisher.idle();
      await consumer.idle();
      expect((await h.rows()).slice(1).map((r) => r.event_id)).toEqual(after.map((e) => e.event_id));
    } finally {
      await h.close();
    }
  });

  it('trims channel streams to about their maximum length', async () => {
    const h = await new Harness('redis', dbs, redisUrl).init();
    try {
      const stream = streamKeys(h.prefix).channel('booking.reminder');
      const { createRedisTransport } = await import('../index.js');
      const small = createRedisTransport(redisUrl!, h.prefix, { maxLen: 100 });
      for (let i = 0; i < 1000; i++) await small.publish(createEnvelope('booking.reminder', reminder(), { source: 'schedule', correlationId: 'c' }));
      await small.close();
      const length = await redis.xlen(stream);
      expect(length).toBeGreaterThanOrEqual(100);
      expect(length).toBeLessThan(400); // approximate trimming works in whole macro nodes
    } finally {
      await h.close();
    }
  });
});
