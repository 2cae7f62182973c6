// startSubgraph wires the event machinery: ctx.events goes through the outbox relay,
// `consumes` handlers run in the service's consumer group, ctx.live reaches the live bus,
// and running.events.idle() tells when everything is through.
import { randomBytes, randomUUID } from 'node:crypto';
import { gql } from 'graphql-tag';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startSubgraph, type BaseContext, type Database, type RunningSubgraph, type SubgraphDefinition } from '../index.js';
import { callSubgraph, redisUrlForTests, testConfig } from '../testing.js';

const typeDefs = gql`
  type Query {
    handled: Int!
  }
  type Mutation {
    remind(bookingId: ID!): ID!
  }
`;

type Ctx = BaseContext & { store: { db: Database } };

const definition: SubgraphDefinition<{ db: Database }> = {
  name: 'notifications',
  typeDefs,
  migrationsDir: new URL('../../../events/src/__tests__/fixtures/migrations/', import.meta.url),
  createStore: (db) => ({ db }),
  resolvers: {
    Query: { handled: async (_: unknown, __: unknown, ctx: Ctx) => (await ctx.store.db.query('SELECT 1 FROM delivery_test')).length },
    Mutation: {
      remind: async (_: unknown, { bookingId }: { bookingId: string }, ctx: Ctx) => {
        const event = await ctx.store.db.transaction((tx) =>
          ctx.events.emit(tx, 'booking.reminder', {
            booking_id: bookingId,
            client_id: randomUUID(),
            trainer_id: randomUUID(),
            booking_date: '2026-12-01',
            start_time: '09:00',
            hours_until: 24,
          }),
        );
        return event.event_id;
      },
    },
  },
  consumes: {
    'booking.reminder': async (event, ctx) => {
      await ctx.tx.query('INSERT INTO delivery_test (event_id, booking_id, correlation_id) VALUES ($1, $2, $3)', [
        event.event_id,
        event.data.booking_id,
        event.correlation_id,
      ]);
      await ctx.live.publish('notificationAdded', { notification_id: event.event_id, recipient_id: event.data.client_id });
    },
  },
};

const redisUrl = redisUrlForTests();

describe.each(redisUrl ? ['in-process', 'redis'] : ['in-process'])('a subgraph with event handlers (%s bus)', (bus) => {
  let running: RunningSubgraph | undefined;
  const prefix = `fitsync-test-${randomBytes(4).toString('hex')}`;
  afterEach(async () => {
    await running?.close();
    if (bus === 'redis') {
      const redis = new Redis(redisUrl!);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('publishes what a resolver wrote, handles it once with the request correlation id, and sends live messages after commit', async () => {
    const env = bus === 'redis' ? { REDIS_URL: redisUrl, EVENTS_PREFIX: prefix } : { EVENTS_PREFIX: prefix };
    running = await startSubgraph(definition, testConfig('notifications', 'pglite', undefined, env));
    expect(running.events.transport.kind).toBe(bus === 'redis' ? 'redis' : 'memory');
    const updates = running.live.subscribe('notificationAdded');
    const next = updates.next();

    const bookingId = randomUUID();
    const started = performance.now();
    const res = await callSubgraph<{ remind: string }>(
      running.url,
      'mutation ($id: ID!) { remind(bookingId: $id) }',
      { id: bookingId },
      { headers: { 'x-correlation-id': 'corr-subgraph' } },
    );
    expect(res.body.errors).toBeUndefined();
    await running.events.idle();
    const latency = performance.now() - started;

    const rows = await running.db.query<{ event_id: string; correlation_id: string }>('SELECT event_id, correlation_id FROM delivery_test');
    expect(rows).toEqual([{ event_id: res.body.data!.remind, correlation_id: 'corr-subgraph' }]);
    const message = await next;
    expect(message.value).toMatchObject({ notification_id: res.body.data!.remind });
    await updates.return?.();
    expect(latency).toBeLessThan(3000);

    const metrics = await fetch(running.url.replace('/graphql', '/metrics')).then((r) => r.text());
    expect(metrics).toMatch(/fitsync_events_published_total\{[^}]*channel="booking.reminder"[^}]*\} 1/);
    expect(metrics).toMatch(/fitsync_events_handled_total\{[^}]*channel="booking.reminder"[^}]*\} 1/);
    // The one GraphQL request above is counted where the gateway (and npm run bench) can read it.
    const graphqlCount = metrics.split('\n').find((l) => l.startsWith('fitsync_http_request_duration_seconds_count{') && l.includes('route="/graphql"'));
    expect(graphqlCount).toMatch(/status="200".* 1$/);
  });
});
