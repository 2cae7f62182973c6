// Delivery between services: the outbox relay, consumer groups, acknowledgement after
// commit, retries, dead letters and replay, on the in-process bus and on Redis Streams,
// with PGlite and Postgres.
import { randomUUID } from 'node:crypto';
import { redisUrlForTests, storageBackends } from '@fitsync/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, streamKeys, waitForEvents, writeEvent } from '../index.js';
import { Harness, TestDatabases, reminder, type TransportKind } from './fixtures/harness.js';

const redisUrl = redisUrlForTests();
const transports: TransportKind[] = redisUrl ? ['memory', 'redis'] : ['memory'];
const cases = transports.flatMap((t) => storageBackends().map((b) => [t, b] as const));

describe.each(cases)('event delivery on %s with %s', (kind, backend) => {
  let h: Harness;
  let dbs: TestDatabases;
  beforeAll(async () => {
    dbs = await new TestDatabases(backend).init();
  });
  afterAll(async () => {
    await dbs?.close();
  });
  const setup = async () => (h = await new Harness(kind, dbs, redisUrl).init());
  afterEach(async () => {
    await h?.close();
  });

  it('delivers after commit, acknowledges only after the handler committed, then sends live messages', async () => {
    await setup();
    const consumer = await h.consumer();
    const publisher = await h.publisher();
    let backlogDuringHandler = -1;
    let liveDuringHandler = -1;
    const original = h.handlers['booking.reminder']!;
    h.handlers['booking.reminder'] = async (event, ctx) => {
      backlogDuringHandler = await consumer.consumer!.backlog();
      await original(event, ctx);
      liveDuringHandler = h.live.length;
    };
    const [sent] = await h.emit(publisher, [randomUUID()], 'corr-delivery');
    // Through within 2 s, or waitForEvents throws: the relay publishes at commit.
    await waitForEvents([publisher, consumer], 2_000);

    expect(await h.rows()).toEqual([{ event_id: sent.event_id, booking_id: sent.data.booking_id, correlation_id: 'corr-delivery' }]);
    expect(backlogDuringHandler).toBe(1); // still pending while the handler ran
    expect(liveDuringHandler).toBe(0); // nothing live before commit
    expect(h.live).toEqual([['bookingChanged', expect.objectContaining({ event_id: sent.event_id, change: 'CREATED' })]]);
    expect(await consumer.consumer!.backlog()).toBe(0);
    // The follow-up event carries the correlation id of the event that caused it.
    const followUps = await h.sub.query<{ envelope: { event: string; correlation_id: string; source: string }; published_at: Date | null }>(
      'SELECT envelope, published_at FROM event_outbox',
    );
    expect(followUps.map((r) => r.envelope)).toEqual([
      expect.objectContaining({ event: 'user.updated', correlation_id: 'corr-delivery', source: 'notifications' }),
    ]);
    expect(followUps[0].published_at).not.toBeNull(); // waitForEvents waited for the consumer's own relay too
    expect(await consumer.pending()).toBe(0);
    expect(await h.counter('fitsync_events_handled_total')).toBe(1);
  });

  it('handles each of 200 events published while the consumer was stopped exactly once', async () => {
    await setup();
    const first = await h.consumer();
    await first.close(); // the group exists; its consumer is gone
    const publisher = await h.publisher();
    const bookings = Array.from({ length: 200 }, () => randomUUID());
    for (let i = 0; i < bookings.length; i += 20) await h.emit(publisher, bookings.slice(i, i + 20));
    await publisher.idle();
    expect(await h.rows()).toHaveLength(0);

    const second = await h.consumer();
    await second.idle(20_000);
    const rows = await h.rows();
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.booking_id))).toEqual(new Set(bookings));
    const [inbox] = await h.sub.query<{ n: number }>("SELECT count(*)::int AS n FROM event_inbox WHERE consumer = 'notifications'");
    expect(inbox.n).toBe(200);
  });

  it('changes nothing when the same event is delivered a second time', async () => {
    await setup();
    const consumer = await h.consumer();
    const envelope = createEnvelope('booking.reminder', reminder(), { source: 'schedule', correlationId: 'corr-twice' });
    await h.transport.publish(envelope);
    await consumer.idle();
    await h.transport.publish(envelope);
    await consumer.idle();
    expect(await h.rows()).toHaveLength(1);
    expect(h.attempts.get(envelope.data.booking_id)).toBe(1);
    expect(await h.counter('fitsync_events_duplicate_total')).toBe(1);
  });

  it('publishes an event whose publisher died between commit and relay once a new relay starts', async () => {
    await setup();
    const consumer = await h.consumer();
    // The transaction commits; no relay ever sees it (the process "died").
    const written = await h.pub.transaction((tx) => writeEvent(tx, 'booking.reminder', reminder(), { source: 'schedule', correlationId: 'corr-crash' }));
    // A later event straight onto the stream: once the consumer has handled it, it would have handled the first had it been published.
    const control = createEnvelope('booking.reminder', reminder(), { source: 'schedule', correlationId: 'corr-control' });
    await h.transport.publish(control);
    await consumer.idle();
    expect((await h.rows()).map((r) => r.event_id)).toEqual([control.event_id]);

    const restarted = await h.publisher();
    await restarted.idle();
    await consumer.idle();
    expect((await h.rows()).map((r) => r.event_id)).toEqual([control.event_id, written.event_id]);
  });

  it('dead-letters a poison event and a malformed one, and goes on with the next events', async () => {
    await setup();
    const consumer = await h.consumer({ maxAttempts: 3 });
    const publisher = await h.publisher();
    const poison = randomUUID();
    h.failures.set(poison, Infinity);
    await h.transport.publishRaw('booking.reminder', '{"this is": not json');
    await h.transport.publishRaw(
      'booking.reminder',
      JSON.stringify({ ...createEnvelope('booking.reminder', reminder(), { source: 'x', correlationId: 'c' }), data: { booking_id: 'nope' } }),
    );
    await h.emit(publisher, [poison]);
    const [later] = await h.emit(publisher, [randomUUID()]);
    await publisher.idle();
    await consumer.idle();

    expect((await h.rows()).map((r) => r.event_id)).toEqual([later.event_id]);
    expect(h.attempts.get(poison)).toBe(3);
    const letters = await h.transport.deadLetters('notifications');
    expect(letters).toHaveLength(3);
    expect(letters.find((l) => l.error.includes('not JSON'))).toMatchObject({ attempts: 1, event_id: null, channel: 'booking.reminder' });
    expect(letters.find((l) => l.error.includes('booking_id'))).toMatchObject({ attempts: 1 });
    expect(letters.find((l) => l.event_id !== null && l.error.includes(poison))).toMatchObject({
      attempts: 3,
      channel: 'booking.reminder',
      service: 'notifications',
    });
    expect(await h.counter('fitsync_events_dead_lettered_total')).toBe(3);
    expect(await h.counter('fitsync_events_failed_total')).toBe(3);
  });

  it('retries a handler that fails transiently until it succeeds', async () => {
    await setup();
    const consumer = await h.consumer({ maxAttempts: 5 });
    const publisher = await h.publisher();
    const flaky = randomUUID();
    h.failures.set(flaky, 2);
    await h.emit(publisher, [flaky]);
    await publisher.idle();
    await consumer.idle();
    expect((await h.rows()).map((r) => r.booking_id)).toEqual([flaky]); // the two failed attempts rolled back
    expect(h.attempts.get(flaky)).toBe(3);
    expect(await h.transport.deadLetters('notifications')).toEqual([]);
  });

  it('replays a dead letter to its service once the cause is fixed', async () => {
    await setup();
    const consumer = await h.consumer({ maxAttempts: 2 });
    const publisher = await h.publisher();
    const broken = randomUUID();
    h.failures.set(broken, Infinity);
    await h.emit(publisher, [broken]);
    await publisher.idle();
    await consumer.idle();
    const [letter] = await h.transport.deadLetters('notifications');
    expect(letter).toMatchObject({ attempts: 2 });
    expect(await h.rows()).toEqual([]);

    h.failures.delete(broken); // the bug is fixed
    expect(await h.transport.replay('notifications', [letter.id])).toBe(1);
    await consumer.idle();
    expect((await h.rows()).map((r) => r.booking_id)).toEqual([broken]);
    expect(await h.transport.deadLetters('notifications')).toEqual([]);
  });

  it("stamps envelopes and dead letters with the service's clock, not the wall clock", async () => {
    await setup();
    const pinned = (iso: string) => () => new Date(iso);
    const publisher = await h.publisher(h.pub, { now: pinned('2027-03-01T09:00:00.000Z') });
    const consumer = await h.consumer({ maxAttempts: 1, now: pinned('2027-03-01T09:30:00.000Z') });
    const poison = randomUUID();
    h.failures.set(poison, Infinity);
    const [failed, handled] = await h.emit(publisher, [poison, randomUUID()]);
    await waitForEvents([publisher, consumer]);

    expect([failed.timestamp, handled.timestamp]).toEqual(['2027-03-01T09:00:00.000Z', '2027-03-01T09:00:00.000Z']);
    const [letter] = await h.transport.deadLetters('notifications');
    expect(letter).toMatchObject({ event_id: failed.event_id, failed_at: '2027-03-01T09:30:00.000Z' });
    expect(JSON.parse(letter.envelope)).toMatchObject({ timestamp: '2027-03-01T09:00:00.000Z' }); // as it travelled
    // The handler's follow-up event is written on the consuming service's clock.
    const followUps = await h.sub.query<{ envelope: { event: string; timestamp: string } }>('SELECT envelope FROM event_outbox');
    expect(followUps.map((r) => r.envelope)).toEqual([expect.objectContaining({ event: 'user.updated', timestamp: '2027-03-01T09:30:00.000Z' })]);
  });

  it('lets a live consumer take over the entries a dead consumer left pending', async () => {
    await setup();
    const keys = streamKeys(h.prefix);
    const stream = keys.channel('booking.reminder');
    await h.streams.ensureGroup(stream, 'notifications');
    const publisher = await h.publisher();
    const sent = await h.emit(publisher, [randomUUID(), randomUUID(), randomUUID()]);
    await publisher.idle();
    // A consumer reads them and dies before acknowledging anything.
    const taken = await h.streams.readGroup('notifications', 'notifications-dead-1', [stream], 10, 0);
    expect(taken).toHaveLength(3);

    const live = await h.consumer({ claimIdleMs: 150 });
    await live.idle();
    expect(new Set((await h.rows()).map((r) => r.event_id))).toEqual(new Set(sent.map((e) => e.event_id)));
    expect(await h.streams.pendingIdle(stream, 'notifications', 0, 10)).toEqual([]);
  });

  // Two relays racing for the same rows (FOR UPDATE SKIP LOCKED) need two connections to one
  // database: Postgres has them, PGlite is a single connection, where the relays would only take turns.
  if (backend === 'postgres')
    it('publishes each event once with two relays on one database', async () => {
      await setup();
      const other = await dbs.open('schedule', dbs.schemas[0]);
      const ids: string[] = [];
      await h.pub.transaction(async (tx) => {
        for (let i = 0; i < 300; i++) ids.push((await writeEvent(tx, 'booking.reminder', reminder(), { source: 'schedule', correlationId: 'c' })).event_id);
      });
      const [a, b] = await Promise.all([h.publisher(h.pub), h.publisher(other)]);
      await Promise.all([a.relay.flush(), b.relay.flush()]);
      await Promise.all([a.idle(), b.idle()]);
      const entries = await h.streams.range(streamKeys(h.prefix).channel('booking.reminder'), 1000);
      const published = entries.map((e) => (JSON.parse(e.fields.envelope) as { event_id: string }).event_id);
      expect(published).toHaveLength(300);
      expect(new Set(published)).toEqual(new Set(ids));
    });
});
