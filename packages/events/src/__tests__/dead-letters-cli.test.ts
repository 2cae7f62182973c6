// `npm run events -- dead-letters list|replay` against a real transport.
import { randomUUID } from 'node:crypto';
import { redisUrlForTests } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError, parseDeadLetterArgs, runDeadLetters } from '../index.js';
import { Harness, TestDatabases, type TransportKind } from './fixtures/harness.js';

const SERVICES = ['schedule', 'notifications'];
const redisUrl = redisUrlForTests();
const kinds: TransportKind[] = redisUrl ? ['redis', 'memory'] : ['memory'];

describe('dead-letters arguments', () => {
  it.each([
    [[]],
    [['dead-letters']],
    [['dead-letters', 'replay']],
    [['dead-letters', 'list', 'x']],
    [['dead-letters', 'list', '--service', 'nope']],
    [['dead-letters', 'replay', '--bogus']],
  ])('refuses %j', (argv) => {
    expect(() => parseDeadLetterArgs(argv, SERVICES)).toThrow(UsageError);
  });
  it('reads ids, --all and --service', () => {
    expect(parseDeadLetterArgs(['dead-letters', 'replay', '1-1', '2-1', '--service', 'schedule'], SERVICES)).toEqual({
      command: 'replay',
      services: ['schedule'],
      ids: ['1-1', '2-1'],
    });
    expect(parseDeadLetterArgs(['dead-letters', 'replay', '--all'], SERVICES)).toEqual({ command: 'replay', services: SERVICES, ids: 'all' });
  });
});

let dbs: TestDatabases;
beforeAll(async () => {
  dbs = await new TestDatabases('pglite').init();
});
afterAll(async () => {
  await dbs?.close();
});

describe.each(kinds)('dead-letters command on %s', (kind) => {
  it('lists dead letters and replays them to their service', async () => {
    const h = await new Harness(kind, dbs, redisUrl).init();
    try {
      const consumer = await h.consumer({ maxAttempts: 1 });
      const publisher = await h.publisher();
      const [a, b] = [randomUUID(), randomUUID()];
      h.failures.set(a, Infinity);
      h.failures.set(b, Infinity);
      await h.emit(publisher, [a, b], 'corr-cli');
      await publisher.idle();
      await consumer.idle();

      const out: string[] = [];
      expect(await runDeadLetters(h.transport, ['dead-letters', 'list'], SERVICES, (s) => out.push(s))).toBe(0);
      const letters = await h.transport.deadLetters('notifications');
      expect(letters).toHaveLength(2);
      expect(out.join('\n')).toContain(letters[0].id);
      expect(out.join('\n')).toContain('correlation_id=corr-cli');
      expect(out.at(-1)).toBe('2 dead letter(s) in schedule, notifications');

      h.failures.clear();
      out.length = 0;
      expect(await runDeadLetters(h.transport, ['dead-letters', 'replay', letters[0].id, 'no-such-id'], SERVICES, (s) => out.push(s))).toBe(1);
      expect(out).toEqual(['replayed 1 dead letter(s)', 'not found: no-such-id']);
      expect(await runDeadLetters(h.transport, ['dead-letters', 'replay', '--all', '--service', 'notifications'], SERVICES, () => undefined)).toBe(0);
      await consumer.idle();
      expect(new Set((await h.rows()).map((r) => r.booking_id))).toEqual(new Set([a, b]));
      expect(await h.transport.deadLetters('notifications')).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
