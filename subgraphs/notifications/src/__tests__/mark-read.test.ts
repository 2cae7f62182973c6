import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningSubgraph } from '@fitsync/service-kit';
import { callSubgraph, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationsSubgraph, seedNotifications, startNotifications } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const unreadOf = (userId: string) => gym.notifications.filter((n) => n.recipientId === userId && !n.read);
// Marking all read empties a user's unread list, which would leave nothing for the one-by-one
// test to mark: it gets a client of its own, one with unread notifications in the demo gym.
const markAllClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id && unreadOf(u.id).length > 0)!;
const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);

const MARK = 'mutation($id: ID!) { markNotificationRead(id: $id) { id read readAt } }';
const MARK_ALL = 'mutation { markAllNotificationsRead }';

describe.each(storageBackends())('notification mutations on %s', (backend) => {
  let server: RunningSubgraph;
  let dispose: () => Promise<void>;
  const call = (query: string, variables: Record<string, unknown>, token: string) => callSubgraph(server.url, query, variables, { token }).then((r) => r.body);
  const unreadCount = async (userId: string) =>
    (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL', [userId]))[0].n;

  beforeAll(async () => {
    const t = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, backend);
    dispose = t.dispose;
    await seedNotifications(t.db, gym);
    server = await startNotifications(testConfig('notifications', backend), { db: t.db, clock });
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('marks one notification read for its recipient; marking it again keeps the first time', async () => {
    const [n] = unreadOf(client.id);
    const first = await call(MARK, { id: n.id }, await as(client));
    expect(first.errors).toBeUndefined();
    expect(first.data!.markNotificationRead).toMatchObject({ id: n.id, read: true });
    const again = await call(MARK, { id: n.id }, await as(client));
    expect(again.data!.markNotificationRead.readAt).toBe(first.data!.markNotificationRead.readAt);
    expect(await unreadCount(client.id)).toBe(unreadOf(client.id).length - 1);
  });

  it('lets admins mark anyone’s, refuses others, and answers bad ids', async () => {
    const [n] = unreadOf(trainer.id);
    const before = await unreadCount(trainer.id);
    expect((await call(MARK, { id: n.id }, await as(client))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(MARK, { id: 'nope' }, await as(client))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(MARK, { id: '00000000-0000-4000-8000-000000000000' }, await as(client))).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await unreadCount(trainer.id)).toBe(before);
    expect((await call(MARK, { id: n.id }, await as(admin))).data!.markNotificationRead.read).toBe(true);
    expect(await unreadCount(trainer.id)).toBe(before - 1);
  });

  it("marks all of the signed-in user's notifications read and says how many changed", async () => {
    const before = await unreadCount(markAllClient.id);
    expect(before).toBeGreaterThan(0);
    const others = await unreadCount(trainer.id);
    expect((await call(MARK_ALL, {}, await as(markAllClient))).data!.markAllNotificationsRead).toBe(before);
    expect(await unreadCount(markAllClient.id)).toBe(0);
    expect(await unreadCount(trainer.id)).toBe(others);
    expect((await call(MARK_ALL, {}, await as(markAllClient))).data!.markAllNotificationsRead).toBe(0);
    const anonymous = await callSubgraph(server.url, MARK_ALL, {});
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
