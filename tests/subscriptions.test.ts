import { randomUUID } from 'node:crypto';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { signUserToken } from '@fitsync/service-kit';
import { pinnedClock } from '@fitsync/service-kit/clock';
import { TEST_JWT_SECRET, testClock, storageBackends } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { subscribeSse, subscribeWs, until, wsUrl } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const user = (email: string) => gym.users.find((u) => u.email === email)!;
const client = user(DEMO_LOGINS.client);
const trainer = user(DEMO_LOGINS.trainer);
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const booking = gym.bookings.find((b) => b.clientId === client.id && b.trainerId === trainer.id)!;
const program = gym.programs.find((p) => p.id === booking.programId)!;
const nameOf = (id: string) => gym.users.find((u) => u.id === id)!.name;

const NOTIFICATION_ADDED = /* GraphQL */ `
  subscription {
    notificationAdded {
      id
      title
      booking {
        date
        trainer {
          name
        }
      }
      program {
        name
      }
    }
  }
`;

describe.each(storageBackends())('live subscriptions through the gateway (in-process bus) on %s', (backend) => {
  let platform: Platform;
  let bus: LiveBus;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    bus = createInProcessLiveBus();
    platform = await startPlatform(backend, [gym], { clock, gateway: { live: { bus } } });
    for (const u of [client, trainer, otherClient]) tokens[u.id] = await platform.tokenFor({ id: u.id, role: u.role });
  });
  afterAll(async () => {
    await platform?.close();
    await bus?.close();
  });

  const active = () => platform.gateway.live!.active();
  beforeEach(async () => {
    await until(() => active() === 0, 5_000, 'the subscriptions of the previous test to end');
  });
  const insertNotification = async (recipientId: string, fields: { title?: string; message?: string; bookingId?: string; programId?: string } = {}) => {
    const id = randomUUID();
    await platform.databases.notifications.query(
      `INSERT INTO notifications (id, recipient_id, type, title, message, booking_id, program_id) VALUES ($1, $2, 'BOOKING_CREATED', $3, $4, $5, $6)`,
      [id, recipientId, fields.title ?? 'Session booked', fields.message ?? 'See you there', fields.bookingId ?? null, fields.programId ?? null],
    );
    return id;
  };

  it('delivers notificationAdded with fields of schedule, users and training, to its recipient only', async () => {
    const mine = subscribeWs(platform.gatewayUrl, tokens[client.id], NOTIFICATION_ADDED);
    const theirs = subscribeWs(platform.gatewayUrl, tokens[otherClient.id], NOTIFICATION_ADDED);
    await until(() => active() === 2, 5_000, 'two subscriptions');

    const id = await insertNotification(client.id, { title: 'Session booked', bookingId: booking.id, programId: program.id });
    await bus.publish('notificationAdded', { notification_id: id, recipient_id: client.id });
    const otherId = await insertNotification(otherClient.id, { title: 'For someone else' });
    await bus.publish('notificationAdded', { notification_id: otherId, recipient_id: otherClient.id });

    await mine.waitFor(1);
    await theirs.waitFor(1);
    expect(mine.events[0]).toEqual({
      data: {
        notificationAdded: {
          id,
          title: 'Session booked',
          booking: { date: booking.date, trainer: { name: nameOf(trainer.id) } },
          program: { name: program.name },
        },
      },
    });
    expect(theirs.events).toEqual([{ data: { notificationAdded: { id: otherId, title: 'For someone else', booking: null, program: null } } }]);
    // Positive control: a later message for each arrives, and still nothing of the other user's came before it.
    const later = await insertNotification(client.id, { title: 'Later' });
    await bus.publish('notificationAdded', { notification_id: later, recipient_id: client.id });
    const theirLater = await insertNotification(otherClient.id, { title: 'Later for them' });
    await bus.publish('notificationAdded', { notification_id: theirLater, recipient_id: otherClient.id });
    await mine.waitFor(2);
    await theirs.waitFor(2);
    expect(mine.events.map((e) => e.data.notificationAdded.id)).toEqual([id, later]);
    expect(theirs.events.map((e) => e.data.notificationAdded.id)).toEqual([otherId, theirLater]);
    await Promise.all([mine.dispose(), theirs.dispose()]);
  });

  it('delivers bookingChanged to the client and the trainer of the booking, with the trainer from users', async () => {
    const query = 'subscription { bookingChanged { change at booking { id date trainer { name } client { name } } } }';
    const subs = [client, trainer, otherClient].map((u) => subscribeWs(platform.gatewayUrl, tokens[u.id], query));
    await until(() => active() === 3, 5_000, 'three subscriptions');
    const at = clock().toISOString();
    await bus.publish('bookingChanged', {
      event_id: randomUUID(),
      change: 'CANCELLED',
      booking_id: booking.id,
      client_id: client.id,
      trainer_id: trainer.id,
      at,
    });
    await subs[0].waitFor(1);
    await subs[1].waitFor(1);
    const expected = {
      data: {
        bookingChanged: {
          change: 'CANCELLED',
          at,
          booking: { id: booking.id, date: booking.date, trainer: { name: nameOf(trainer.id) }, client: { name: client.name } },
        },
      },
    };
    expect(subs[0].events).toEqual([expected]);
    expect(subs[1].events).toEqual([expected]);
    // Positive control: a change to the other client's own booking, published after, reaches them; the first never did.
    const theirs = gym.bookings.find((b) => b.clientId === otherClient.id)!;
    await bus.publish('bookingChanged', {
      event_id: randomUUID(),
      change: 'RESCHEDULED',
      booking_id: theirs.id,
      client_id: otherClient.id,
      trainer_id: theirs.trainerId,
      at,
    });
    await subs[2].waitFor(1);
    expect(subs[2].events.map((e) => e.data.bookingChanged.booking.id)).toEqual([theirs.id]);
    await Promise.all(subs.map((s) => s.dispose()));
  });

  it('serves GraphQL over SSE on the same path', async () => {
    const sse = subscribeSse(platform.gatewayUrl, tokens[client.id], 'subscription { unreadNotificationCountChanged }');
    await until(() => active() === 1, 5_000, 'the SSE subscription');
    await bus.publish('unreadNotificationCountChanged', { user_id: otherClient.id, count: 9 });
    await bus.publish('unreadNotificationCountChanged', { user_id: client.id, count: 4 });
    await sse.waitFor(1);
    expect(sse.events).toEqual([{ data: { unreadNotificationCountChanged: 4 } }]);
    expect(sse.errors).toEqual([]);
    sse.close();
    await until(() => active() === 0, 5_000, 'the SSE subscription to end');
  });

  it('refuses SSE subscriptions without a valid token with 401', async () => {
    const sse = subscribeSse(platform.gatewayUrl, 'not-a-token', 'subscription { unreadNotificationCountChanged }');
    const refusal = await sse.refused;
    expect(refusal.response?.status).toBe(401);
    expect((await refusal.response!.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(sse.events).toEqual([]);
  });

  it('closes connections with a missing or bad token with 4403 Forbidden; the key is case-insensitive', async () => {
    const missing = subscribeWs(platform.gatewayUrl, undefined, NOTIFICATION_ADDED);
    const bad = subscribeWs(platform.gatewayUrl, 'garbage', NOTIFICATION_ADDED);
    await until(() => missing.closed !== undefined && bad.closed !== undefined, 5_000, 'both closed');
    expect(missing.closed!.code).toBe(4403);
    expect(bad.closed!.code).toBe(4403);

    const upper = subscribeWs(platform.gatewayUrl, undefined, NOTIFICATION_ADDED, { Authorization: `Bearer ${tokens[client.id]}` });
    await until(() => active() === 1, 5_000, 'a subscription with Authorization');
    expect(upper.closed).toBeUndefined();
    await upper.dispose();
  });

  it('applies the operation limits and refuses queries over WebSocket', async () => {
    const nested = `subscription { bookingChanged { booking { trainer { ${'clients { '.repeat(14)}name${' }'.repeat(14)} } } } }`;
    const deep = subscribeWs(platform.gatewayUrl, tokens[client.id], nested);
    const query = subscribeWs(platform.gatewayUrl, tokens[client.id], '{ me { name } }');
    await until(() => deep.errors.length > 0 && query.errors.length > 0, 5_000, 'both refused');
    expect(JSON.stringify(deep.errors)).toMatch(/nested more than 15 levels/);
    expect(JSON.stringify(query.errors)).toMatch(/Only subscriptions/);
    await Promise.all([deep.dispose(), query.dispose()]);
  });

  it('ends the subscription when the token expires', async () => {
    // A gateway of its own, on a pinned clock of its own (moving the platform's would expire the
    // other tests' tokens), that sweeps for expired sessions often.
    const gatewayClock = pinnedClock(clock());
    const gateway = await platform.startGateway({ clock: gatewayClock, live: { bus, expiryCheckMs: 20 } });
    const shortLived = await signUserToken({ id: client.id, role: 'CLIENT' }, TEST_JWT_SECRET, '1h', gatewayClock);
    const sub = subscribeWs(gateway.url, shortLived, 'subscription { unreadNotificationCountChanged }');
    await until(() => gateway.live!.active() === 1, 5_000, 'the subscription');
    await bus.publish('unreadNotificationCountChanged', { user_id: client.id, count: 1 });
    await sub.waitFor(1);
    // 59 minutes pass: still valid, and still delivering.
    gatewayClock.advance(59 * 60_000);
    await bus.publish('unreadNotificationCountChanged', { user_id: client.id, count: 2 });
    await sub.waitFor(2);
    expect(sub.closed).toBeUndefined();
    // The hour is up.
    gatewayClock.advance(60_000);
    await until(() => sub.closed !== undefined, 5_000, 'the connection to close at expiry');
    expect(sub.closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' });
    expect(gateway.live!.active()).toBe(0);
    await gateway.close();
  });

  it('cuts off a client that stops reading while the others keep receiving', async () => {
    const gateway = await platform.startGateway({ live: { bus, maxBufferedBytes: 256 * 1024, maxQueuedEvents: 20 } });
    const id = await insertNotification(client.id, { message: 'x'.repeat(64 * 1024) });
    const query = 'subscription { notificationAdded { id message } }';
    const reader = subscribeWs(gateway.url, tokens[client.id], query);

    // The stalled client speaks the protocol by hand, then stops reading its socket.
    const stalled = new WebSocket(wsUrl(gateway.url), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => stalled.on('close', (code) => resolve(code)));
    await new Promise((r) => stalled.once('open', r));
    stalled.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokens[client.id]}` } }));
    await new Promise((r) => stalled.once('message', r));
    stalled.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await until(() => gateway.live!.active() === 2, 5_000, 'both subscriptions');
    (stalled as unknown as { _socket: { pause(): void } })._socket.pause();

    const total = 300;
    for (let i = 0; i < total; i++) {
      await bus.publish('notificationAdded', { notification_id: id, recipient_id: client.id });
      if (i % 20 === 19) await reader.waitFor(i + 1, 10_000);
    }
    await reader.waitFor(total, 20_000);
    await until(() => gateway.live!.active() === 1, 10_000, 'the stalled client to be cut off');
    expect(reader.events.every((e) => e.data?.notificationAdded.id === id)).toBe(true);
    (stalled as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1006, 1008]).toContain(await closed);
    await reader.dispose();
  }, 60_000);

  it('completes subscriptions when the gateway shuts down', async () => {
    const gateway = await platform.startGateway({ live: { bus } });
    const sub = subscribeWs(gateway.url, tokens[client.id], 'subscription { unreadNotificationCountChanged }');
    await until(() => gateway.live!.active() === 1, 5_000, 'the subscription');
    await gateway.close();
    await until(() => sub.completed && sub.closed !== undefined, 5_000, 'complete, then close');
    expect(sub.closed!.code).toBe(1001);
  });
});
