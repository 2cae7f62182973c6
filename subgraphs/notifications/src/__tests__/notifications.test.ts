import { callSubgraph, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import type { RunningSubgraph as Running } from '@fitsync/service-kit';
import { DEMO_LOGINS, demoGym, type GymNotification } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsSubgraph, seedNotifications, startNotifications } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

// What the seeded gym says each user should see: newest first, id breaking ties.
const newestFirst = (a: GymNotification, b: GymNotification) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);
const notificationsOf = (userId: string) => gym.notifications.filter((n) => n.recipientId === userId).sort(newestFirst);
const unreadOf = (userId: string) => notificationsOf(userId).filter((n) => !n.read);
const recipients = [...new Set(gym.notifications.map((n) => n.recipientId))];
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id && notificationsOf(u.id).length > 0)!;
const clientNotification = notificationsOf(client.id).find((n) => n.bookingId)!;

const USER_FIELDS = `query($r: [_Any!]!, $first: Int, $unread: Boolean) {
  _entities(representations: $r) { ... on User { id unreadNotificationCount notifications(first: $first, unreadOnly: $unread) { id read } } }
}`;
const usersRef = (ids: string[]) => ids.map((id) => ({ __typename: 'User', id }));

describe.each(storageBackends())('notifications subgraph on %s', (backend) => {
  let server: Running;
  let dispose: () => Promise<void>;
  let asAdmin: string;
  let asClient: string;
  const call = (query: string, variables?: Record<string, unknown>, token?: string) => callSubgraph(server.url, query, variables, { token });
  /** Runs an operation and returns its response with the SQL statements it cost. */
  const measured = async (query: string, variables: Record<string, unknown>, token: string) => {
    const before = server.db.stats.statements;
    const { body } = await call(query, variables, token);
    return { body, statements: server.db.stats.statements - before };
  };

  beforeAll(async () => {
    const t = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, backend);
    dispose = t.dispose;
    await seedNotifications(t.db, gym);
    server = await startNotifications(testConfig('notifications', backend), { db: t.db, clock });
    asAdmin = await testToken({ id: admin.id, role: 'ADMIN' }, clock);
    asClient = await testToken({ id: client.id, role: 'CLIENT' }, clock);
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('publishes its federation SDL with Notification and the User extension', async () => {
    const { body } = await call('{ _service { sdl } }');
    const sdl: string = body.data?._service.sdl;
    expect(sdl).toMatch(/type Notification\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Booking\s+@key\(fields: "id", resolvable: false\)/);
  });

  it('gives every user their unread count and newest-first list as seeded', async () => {
    const everyone = gym.users.map((u) => u.id);
    const { body } = await call(USER_FIELDS, { r: usersRef(everyone), first: 100 }, asAdmin);
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual(
      everyone.map((id) => ({
        id,
        unreadNotificationCount: unreadOf(id).length,
        notifications: notificationsOf(id).map((n) => ({ id: n.id, read: n.read })),
      })),
    );
    // The demo client has unread ones, and some users have none at all.
    expect(unreadOf(client.id).length).toBeGreaterThan(0);
    expect(everyone.some((id) => notificationsOf(id).length === 0)).toBe(true);
  });

  it('limits lists per user with first and filters unreadOnly', async () => {
    const busiest = [...recipients].sort((a, b) => notificationsOf(b).length - notificationsOf(a).length).slice(0, 4);
    const two = await call(USER_FIELDS, { r: usersRef(busiest), first: 2 }, asAdmin);
    expect(two.body.data?._entities.map((u: { notifications: { id: string }[] }) => u.notifications.map((n) => n.id))).toEqual(
      busiest.map((id) =>
        notificationsOf(id)
          .slice(0, 2)
          .map((n) => n.id),
      ),
    );
    const unread = await call(USER_FIELDS, { r: usersRef(busiest), first: 100, unread: true }, asAdmin);
    expect(unread.body.data?._entities.map((u: { notifications: { id: string }[] }) => u.notifications.map((n) => n.id))).toEqual(
      busiest.map((id) => unreadOf(id).map((n) => n.id)),
    );
    const none = await measured(USER_FIELDS, { r: usersRef(busiest), first: 0 }, asAdmin);
    expect(none.body.data?._entities.every((u: { notifications: unknown[] }) => u.notifications.length === 0)).toBe(true);
    expect(none.statements).toBe(1); // the counts only
    const tooMany = await call(USER_FIELDS, { r: usersRef([client.id]), first: 101 }, asAdmin);
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('costs the same SQL statements for 1 user as for 12: one per list, one for the counts', async () => {
    const twelve = recipients.slice(0, 12);
    expect(twelve).toHaveLength(12);
    const one = await measured(USER_FIELDS, { r: usersRef(twelve.slice(0, 1)), first: 5 }, asAdmin);
    const many = await measured(USER_FIELDS, { r: usersRef(twelve), first: 5 }, asAdmin);
    expect(one.body.errors).toBeUndefined();
    expect(many.body.errors).toBeUndefined();
    expect(many.body.data?._entities).toHaveLength(12);
    expect(one.statements).toBe(2);
    expect(many.statements).toBe(one.statements);

    // Two different argument sets in one request: one statement each.
    const both = await measured(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on User {
         unreadNotificationCount latest: notifications(first: 3) { id } unread: notifications(unreadOnly: true) { id } } } }`,
      { r: usersRef(twelve) },
      asAdmin,
    );
    expect(both.body.errors).toBeUndefined();
    expect(both.statements).toBe(3);
  });

  it('shows notifications only to their recipient and admins', async () => {
    const own = await call(USER_FIELDS, { r: usersRef([client.id]) }, asClient);
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data?._entities[0].unreadNotificationCount).toBe(unreadOf(client.id).length);

    const others = await call(USER_FIELDS, { r: usersRef([otherClient.id]) }, asClient);
    expect(others.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(others.body.data?._entities[0]).toMatchObject({ unreadNotificationCount: null, notifications: null });

    // Trainers see much about their clients, but not their inbox.
    const asTrainer = await testToken({ id: trainer.id, role: 'TRAINER' }, clock);
    const trainersClient = await call(USER_FIELDS, { r: [{ __typename: 'User', id: client.id, trainerIds: [trainer.id] }] }, asTrainer);
    expect(trainersClient.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const anonymous = await call(USER_FIELDS, { r: usersRef([client.id]) });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers notification(id) with its references, for the recipient and admins only', async () => {
    const q = `query($id: ID!) { notification(id: $id) {
      id type title message read readAt createdAt correlationId recipient { id } booking { id } program { id } achievement { id } } }`;
    const n = clientNotification;
    const own = await call(q, { id: n.id }, asClient);
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data?.notification).toEqual({
      id: n.id,
      type: n.type,
      title: n.title,
      message: n.message,
      read: n.read,
      readAt: n.read ? n.createdAt.toISOString() : null,
      createdAt: n.createdAt.toISOString(),
      correlationId: null,
      recipient: { id: client.id },
      booking: { id: n.bookingId },
      program: n.programId ? { id: n.programId } : null,
      achievement: n.achievementId ? { id: n.achievementId } : null,
    });
    const achievement = gym.notifications.find((x) => x.achievementId)!;
    const viaAdmin = await call(q, { id: achievement.id }, asAdmin);
    expect(viaAdmin.body.data?.notification).toMatchObject({
      achievement: { id: achievement.achievementId },
      booking: null,
      recipient: { id: achievement.recipientId },
    });

    const asOther = await call(q, { id: n.id }, await testToken({ id: otherClient.id, role: 'CLIENT' }, clock));
    expect(asOther.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(asOther.body.data?.notification).toBeNull();
    const anonymous = await call(q, { id: n.id });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers malformed and unknown ids with BAD_USER_INPUT and NOT_FOUND', async () => {
    const q = 'query($id: ID!) { notification(id: $id) { id } }';
    const bad = await call(q, { id: "1'; drop table notifications; --" }, asAdmin);
    expect(bad.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const missing = await call(q, { id: UNKNOWN }, asAdmin);
    expect(missing.body.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', type: 'Notification', id: UNKNOWN });
    // One malformed representation fails alone; the others of the batch still resolve.
    const badUser = await call(USER_FIELDS, { r: usersRef(['not-a-uuid', client.id]) }, asAdmin);
    expect(badUser.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    expect(badUser.body.data?._entities[1].unreadNotificationCount).toBe(unreadOf(client.id).length);
  });

  it('resolves Notification references in key order in one SQL statement, null for unknown ids', async () => {
    const [a, b] = notificationsOf(client.id);
    const q = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Notification { id title recipient { id } } } }';
    const r = [b.id, UNKNOWN, a.id].map((id) => ({ __typename: 'Notification', id }));
    const { body, statements } = await measured(q, { r }, asAdmin);
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([
      { id: b.id, title: b.title, recipient: { id: client.id } },
      null,
      { id: a.id, title: a.title, recipient: { id: client.id } },
    ]);
    expect(statements).toBe(1);

    const own = await call(q, { r: [{ __typename: 'Notification', id: a.id }] }, asClient);
    expect(own.body.data?._entities).toEqual([{ id: a.id, title: a.title, recipient: { id: client.id } }]);
    const foreign = notificationsOf(otherClient.id)[0];
    const mixed = await call(
      q,
      {
        r: [
          { __typename: 'Notification', id: a.id },
          { __typename: 'Notification', id: foreign.id },
        ],
      },
      asClient,
    );
    expect(mixed.body.data?._entities).toEqual([{ id: a.id, title: a.title, recipient: { id: client.id } }, null]);
    expect(mixed.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const malformed = await call(q, { r: [{ __typename: 'Notification', id: 'nope' }] }, asAdmin);
    expect(malformed.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
