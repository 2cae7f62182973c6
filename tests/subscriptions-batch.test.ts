import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { demoGym } from '@fitsync/demo-data';
import { createInProcessLiveBus, LIVE_BATCH_HEADER, LIVE_MESSAGE_EXTENSION, type LiveBus } from '@fitsync/live';
import { createServiceCredentials, SERVICE_TOKEN_HEADER } from '@fitsync/service-kit';
import { storageBackends, TEST_SERVICE_SECRET, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const QUERY = 'subscription { unreadNotificationCountChanged }';

// Live messages that reach the gateway's data source in one turn of the event loop go to the
// owning subgraph as one live batch (one HTTP request, LIVE_BATCH_HEADER), each entry still
// resolved for its own caller with its own token and access checks.
describe.each(storageBackends())('live batches (in-process bus) on %s', (backend) => {
  let platform: Platform;
  let bus: LiveBus;
  const subs: LiveSubscription[] = [];
  beforeAll(async () => {
    bus = createInProcessLiveBus();
    platform = await startPlatform(backend, [gym], { clock, gateway: { live: { bus } } });
    // Five subgraphs and a gateway: on a loaded shared machine this took 80 s.
  }, 180_000);
  afterAll(async () => {
    await Promise.all(subs.map((sub) => sub.dispose()));
    await platform?.close();
    await bus?.close();
  });

  it('sends a burst of messages in fewer requests than messages, and each subscriber gets its own messages only, in order', async () => {
    const USERS = 40;
    const PER_USER = 3;
    const users: { id: string; tabs: LiveSubscription[] }[] = [];
    for (let i = 0; i < USERS; i++) {
      const id = randomUUID();
      const token = await platform.tokenFor({ id, role: 'CLIENT' });
      // Every fourth user has two tabs open: each gets every message of its user.
      const tabs = Array.from({ length: i % 4 === 0 ? 2 : 1 }, () => subscribeWs(platform.gatewayUrl, token, QUERY));
      subs.push(...tabs);
      users.push({ id, tabs });
    }
    await until(() => platform.gateway.live!.active() === subs.length, 10_000, `${subs.length} subscriptions`);

    const requests: IncomingMessage[] = [];
    const server = platform.subgraphs.notifications.server;
    const seen = (req: IncomingMessage) => requests.push(req);
    server.on('request', seen);
    try {
      // Each user's counts are its own (user i gets i * 100 + n): a message delivered to anyone else would show.
      for (let n = 0; n < PER_USER; n++) users.forEach(({ id }, i) => void bus.publish('unreadNotificationCountChanged', { user_id: id, count: i * 100 + n }));
      await until(() => subs.every((sub) => sub.events.length >= PER_USER), 20_000, 'every event delivered');
    } finally {
      server.off('request', seen);
    }

    users.forEach(({ tabs }, i) => {
      for (const tab of tabs) {
        expect(tab.errors).toEqual([]);
        expect(tab.events.map((e) => e.data?.unreadNotificationCountChanged)).toEqual([i * 100, i * 100 + 1, i * 100 + 2]);
      }
    });
    const resolved = subs.length * PER_USER;
    const batches = requests.filter((r) => r.headers[LIVE_BATCH_HEADER]);
    expect(batches.length).toBeGreaterThan(0);
    // Before: one request per subscriber per message (150 here).
    expect(requests.length).toBeLessThan(resolved / 2);
  });

  it('resolves each entry of a batch for its own caller: the subgraph refuses the one whose token is not the recipient, and the others are served', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const tokenA = await platform.tokenFor({ id: a, role: 'CLIENT' });
    const credential = await createServiceCredentials('gateway', TEST_SERVICE_SECRET).token();
    const entry = (authorization: string | undefined, userId: string, count: number) => ({
      query: 'subscription { unreadNotificationCountChanged }',
      extensions: { [LIVE_MESSAGE_EXTENSION]: { topic: 'unreadNotificationCountChanged', payload: { user_id: userId, count } } },
      ...(authorization ? { authorization } : {}),
    });
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(platform.subgraphs.notifications.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [LIVE_BATCH_HEADER]: '1', ...headers },
        body: JSON.stringify(body),
      });

    const res = await post({ [SERVICE_TOKEN_HEADER]: credential }, [
      entry(`Bearer ${tokenA}`, a, 7),
      // A's token with B's message: B's count must not come back.
      entry(`Bearer ${tokenA}`, b, 8),
      entry('Bearer not-a-token', a, 9),
      { query: '{ __typename }', extensions: entry(undefined, a, 10).extensions },
    ]);
    expect(res.status).toBe(200);
    const results = (await res.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] }[];
    expect(results).toHaveLength(4);
    expect(results[0]).toEqual({ data: { unreadNotificationCountChanged: 7 } });
    expect(results[1].data?.unreadNotificationCountChanged ?? null).toBeNull();
    expect(results[1].errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(results[2]).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(results[3]).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    expect(JSON.stringify(results)).not.toContain('"unreadNotificationCountChanged":8');

    // Without the gateway's credential nothing is resolved.
    const anonymous = await post({}, [entry(`Bearer ${tokenA}`, a, 11)]);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    // Not a batch: a coded 400, not a 500.
    const notArray = await post({ [SERVICE_TOKEN_HEADER]: credential }, { query: '{ __typename }' });
    expect(notArray.status).toBe(400);
    expect(await notArray.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });
});
