import { compose, formatProblems } from '@fitsync/composition';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { createLogger, type PinnedClock } from '@fitsync/service-kit';
import { testClock, testConfig, testToken } from '@fitsync/service-kit/testing';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { SubscriptionExecutor, type PreparedSubscription } from '../live/executor.js';
import { createGateway, type LiveOptions, type RunningGateway } from '../server.js';
import { STUB_NOTIFICATIONS_SDL, startStubNotifications, type StubNotifications } from './stub-notifications.js';

const viewer = { id: '6f1c2a9e-3b1d-4c55-9a47-0d2f8e1b7c10', role: 'CLIENT' as const };
const HOUR = 60 * 60 * 1000;
const COUNT = 'subscription { unreadNotificationCountChanged }';
// Generous for a loaded machine; each wait ends as soon as its condition holds.
const soon = { timeout: 5_000 };

/** A graphql-ws client that records what it receives and how its connection closed. */
function subscribeWs(gateway: RunningGateway, token: string) {
  const sub = {
    counts: [] as number[],
    closed: undefined as { code: number; reason: string } | undefined,
    dispose: () => client.dispose(),
  };
  const client = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
    on: {
      closed: (e) => {
        const { code, reason } = e as { code: number; reason: string };
        sub.closed = { code, reason: String(reason) };
      },
    },
  });
  client.subscribe<{ unreadNotificationCountChanged: number }>(
    { query: COUNT },
    {
      next: (value) => void sub.counts.push(value.data!.unreadNotificationCountChanged),
      error: () => {},
      complete: () => {},
    },
  );
  return sub;
}

/** GraphQL over SSE (distinct connections), through graphql-sse's own client. */
function subscribeSse(gateway: RunningGateway, token: string) {
  const client = createSseClient({ url: gateway.url, retryAttempts: 0, headers: { authorization: `Bearer ${token}` } });
  const sub = { counts: [] as number[], completed: false, close: () => client.dispose() };
  client.subscribe<{ unreadNotificationCountChanged: number }>(
    { query: COUNT },
    {
      next: (value) => void sub.counts.push(value.data!.unreadNotificationCountChanged),
      error: () => {},
      complete: () => void (sub.completed = true),
    },
  );
  return sub;
}

describe('subscriptions end when their token expires, by the gateway clock', () => {
  let notifications: StubNotifications;
  let clock: PinnedClock;
  let pinnedAt: Date;
  let bus: LiveBus;
  let supergraphSdl: string;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    ({ clock } = testClock());
    pinnedAt = clock();
    notifications = await startStubNotifications(clock);
    const composed = compose([{ name: 'notifications', url: notifications.url, sdl: STUB_NOTIFICATIONS_SDL }]);
    if (!composed.ok) throw new Error(formatProblems(composed.problems));
    supergraphSdl = composed.supergraphSdl;
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await bus?.close();
  });
  afterAll(async () => {
    await notifications?.close();
  });

  async function start(live: Partial<LiveOptions> = {}) {
    clock.set(pinnedAt);
    bus = createInProcessLiveBus();
    const gateway = await createGateway(testConfig('gateway'), { supergraphSdl, clock, live: { bus, ...live } });
    gateways.push(gateway);
    return gateway;
  }
  const publish = (count: number) => bus.publish('unreadNotificationCountChanged', { user_id: viewer.id, count });

  it('closes the WebSocket with 4403 once the clock passes expiry, found by the sweep', async () => {
    const gateway = await start({ expiryCheckMs: 20 });
    const sub = subscribeWs(gateway, await testToken(viewer, clock, '1h'));
    await vi.waitFor(() => expect(gateway.live!.active()).toBe(1), soon);

    // A second before expiry the subscription still delivers: the sweep has nothing to end.
    clock.advance(HOUR - 1_000);
    await publish(1);
    await vi.waitFor(() => expect(sub.counts).toEqual([1]), soon);
    expect(sub.closed).toBeUndefined();

    clock.advance(1_000);
    await vi.waitFor(() => expect(sub.closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' }), soon);
    await vi.waitFor(() => expect(gateway.live!.active()).toBe(0), soon);
    await sub.dispose();
  });

  it('checks the token before each message, so none is delivered after expiry between sweeps', async () => {
    const gateway = await start({ expiryCheckMs: 24 * HOUR });
    const sub = subscribeWs(gateway, await testToken(viewer, clock, '1h'));
    await vi.waitFor(() => expect(gateway.live!.active()).toBe(1), soon);
    await publish(1);
    await vi.waitFor(() => expect(sub.counts).toEqual([1]), soon);

    clock.advance(HOUR);
    await publish(2);
    // The close comes from handling message 2: by then it was refused, not sent.
    await vi.waitFor(() => expect(sub.closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' }), soon);
    expect(sub.counts).toEqual([1]);
    await sub.dispose();
  });

  it('completes an SSE subscription once its token expired', async () => {
    const gateway = await start({ expiryCheckMs: 20 });
    const sse = subscribeSse(gateway, await testToken(viewer, clock, '1h'));
    await vi.waitFor(() => expect(gateway.live!.active()).toBe(1), soon);
    await publish(1);
    await vi.waitFor(() => expect(sse.counts).toEqual([1]), soon);
    expect(sse.completed).toBe(false);

    clock.advance(HOUR);
    await vi.waitFor(() => expect(sse.completed).toBe(true), soon);
    expect(sse.counts).toEqual([1]);
    expect(gateway.live!.active()).toBe(0);
    sse.close();
  });

  it('refuses a token that has expired by the pinned clock, over HTTP and WebSocket', async () => {
    const gateway = await start();
    const token = await testToken(viewer, clock, '1h');
    clock.advance(HOUR);
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ unreadNotificationCount }' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED' } });
    const sub = subscribeWs(gateway, token);
    await vi.waitFor(() => expect(sub.closed?.code).toBe(4403), soon);
    await sub.dispose();
  });
});

describe('SubscriptionExecutor', () => {
  const composed = compose([{ name: 'notifications', url: 'http://127.0.0.1:9/graphql', sdl: STUB_NOTIFICATIONS_SDL }]);
  if (!composed.ok) throw new Error(formatProblems(composed.problems));
  const executor = () => new SubscriptionExecutor(composed.supergraphSdl, () => ({}), [], createLogger('gateway', 'silent'));

  it('plans a document once and reuses the plan for every subscription to it', () => {
    const subscriptions = executor();
    const first = subscriptions.prepare({ query: COUNT }) as PreparedSubscription;
    const again = subscriptions.prepare({ query: COUNT }) as PreparedSubscription;
    expect(first.feed).toEqual({
      kind: 'broker',
      route: { field: 'unreadNotificationCountChanged', topic: 'unreadNotificationCountChanged', recipients: ['user_id'] },
    });
    expect(again.plan).toBe(first.plan);
  });

  it("refuses what it cannot serve with the client's errors", () => {
    const errors = executor().prepare({ query: '{ unreadNotificationCount }' }) as Error[];
    expect(errors.map((e) => e.message)).toEqual(['Only subscriptions are served here; send queries and mutations as HTTP POST to /graphql']);
  });
});
