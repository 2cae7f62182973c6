import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { LIVE_MESSAGE_EXTENSION, type LiveMessage } from '@fitsync/live';
import { createServiceCredentials, SERVICE_TOKEN_HEADER, type RunningSubgraph } from '@fitsync/service-kit';
import { openTestDatabase, TEST_SERVICE_SECRET, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsSubgraph, seedNotifications, startNotifications } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const notification = gym.notifications.find((n) => n.recipientId === client.id)!;
const credentials = createServiceCredentials('gateway', TEST_SERVICE_SECRET);

// What the gateway sends as a subscription's primary fetch: the field, with the live message attached.
describe('notifications subscription fields, resolved one live message at a time', () => {
  let server: RunningSubgraph;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const t = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, 'pglite');
    dispose = t.dispose;
    await seedNotifications(t.db, gym);
    server = await startNotifications(testConfig('notifications'), { db: t.db, clock });
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  const primaryFetch = async (query: string, userId: string, message?: LiveMessage) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SERVICE_TOKEN_HEADER]: await credentials.token(),
        authorization: `Bearer ${await testToken({ id: userId, role: 'CLIENT' }, clock)}`,
      },
      body: JSON.stringify({ query, extensions: message ? { [LIVE_MESSAGE_EXTENSION]: message } : {} }),
    });
    return (await res.json()) as { data?: any; errors?: { extensions: { code: string } }[] };
  };
  const added: LiveMessage = { topic: 'notificationAdded', payload: { notification_id: notification.id, recipient_id: client.id } };

  it('loads the notification a message names for its recipient', async () => {
    const body = await primaryFetch('subscription { notificationAdded { id title booking { id } } }', client.id, added);
    expect(body).toEqual({
      data: { notificationAdded: { id: notification.id, title: notification.title, booking: notification.bookingId ? { id: notification.bookingId } : null } },
    });
  });

  it("refuses another user's notification, even when a message names it", async () => {
    const body = await primaryFetch('subscription { notificationAdded { id } }', otherClient.id, added);
    expect(body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('answers the unread count of the caller only', async () => {
    const mine = await primaryFetch('subscription { unreadNotificationCountChanged }', client.id, {
      topic: 'unreadNotificationCountChanged',
      payload: { user_id: client.id, count: 3 },
    });
    expect(mine).toEqual({ data: { unreadNotificationCountChanged: 3 } });
    const theirs = await primaryFetch('subscription { unreadNotificationCountChanged }', otherClient.id, {
      topic: 'unreadNotificationCountChanged',
      payload: { user_id: client.id, count: 3 },
    });
    expect(theirs.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('is no subscription server itself: without a message it says where to subscribe', async () => {
    const body = await primaryFetch('subscription { notificationAdded { id } }', client.id);
    expect(body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});
