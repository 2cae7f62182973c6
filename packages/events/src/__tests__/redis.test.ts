// What only Redis does: connections that drop (a Redis restart), stream trimming, and a backlog
// counted when deletions leave a group's lag unknown.
import { randomUUID } from 'node:crypto';
import { redisUrlForTests } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, streamKeys } from '../index.js';
import { createRedisStreams } from '../streams-redis.js';
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

  it("counts a group's backlog (undelivered plus unacknowledged), also when a deletion inside the stream leaves its lag unknown", async () => {
    const backend = createRedisStreams(redisUrl!);
    const stream = `test:${randomUUID()}`;
    try {
      expect(await backend.backlog(stream, 'g')).toBe(0); // no stream yet
      await backend.ensureGroup(stream, 'g');
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await backend.add(stream, { n: String(i) }));
      expect(await backend.backlog(stream, 'g')).toBe(4);
      expect(await backend.backlog(stream, 'other')).toBe(0); // no such group
      const [delivered] = await backend.readGroup('g', 'c', [stream], 1, 100);
      expect(delivered.id).toBe(ids[0]);
      expect(await backend.backlog(stream, 'g')).toBe(4); // 1 pending + 3 undelivered
      await backend.del(stream, [ids[2]]);
      const info = (await redis.xinfo('GROUPS', stream)) as unknown[][];
      expect(info[0][info[0].indexOf('lag') + 1]).toBeNull(); // the case the count must survive
      expect(await backend.backlog(stream, 'g')).toBe(3); // 1 pending + ids[1] and ids[3]
      await backend.ack(stream, 'g', [ids[0]]);
      expect(await backend.backlog(stream, 'g')).toBe(2);
    } finally {
      await redis.del(stream);
      await backend.close();
    }
  });
});
