import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningSubgraph } from '@fitsync/service-kit';
import { callSubgraph, openTestDatabase, outboxEvents, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUsers, startUsers, usersSubgraph } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
// Each test changes its own user, so none depends on what another wrote before it:
// the demo client is renamed by the first test, this client only ever sees no-op updates.
const unchangedClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);

const UPDATE =
  'mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id name phone clientProfile { fitnessLevel goalsSummary } trainerProfile { bio } } }';

describe.each(storageBackends())('updateProfile on %s', (backend) => {
  let server: RunningSubgraph;
  let dispose: () => Promise<void>;
  const call = async (variables: Record<string, unknown>, token: string, correlationId = `users-${Math.random()}`) => ({
    ...(await callSubgraph(server.url, UPDATE, variables, { token, headers: { 'x-correlation-id': correlationId } })).body,
    correlationId,
  });
  const outbox = () => outboxEvents(server.db);
  const snapshot = async () => ({ users: await server.db.query('SELECT * FROM users ORDER BY id'), events: (await outbox()).length });

  beforeAll(async () => {
    const t = await openTestDatabase('users', usersSubgraph.migrationsDir, backend);
    dispose = t.dispose;
    await seedUsers(t.db, gym);
    server = await startUsers(testConfig('users', backend), { db: t.db, clock });
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('changes the profile and writes user.updated with the fields that changed, in one transaction', async () => {
    const before = (await outbox()).length;
    const res = await call({ i: { name: 'Renamed Client', phone: client.phone, clientProfile: { goalsSummary: 'Run 10k' } } }, await as(client));
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateProfile).toMatchObject({ name: 'Renamed Client', clientProfile: { goalsSummary: 'Run 10k' } });
    const events = (await outbox()).slice(before);
    expect(events.map((e) => e.channel)).toEqual(['user.updated']);
    // the phone was sent unchanged: not a change
    expect(events[0].envelope).toMatchObject({
      source: 'users',
      correlation_id: res.correlationId,
      data: { user_id: client.id, changes: ['name', 'client_profile'] },
    });
  });

  it('writes nothing when nothing changes, and refuses others and bad input', async () => {
    const snap = await snapshot();
    // the name it already has (from the seed: no other test changes this user)
    expect((await call({ i: { name: unchangedClient.name } }, await as(unchangedClient))).errors).toBeUndefined();
    expect((await call({ i: { userId: trainer.id, name: 'Hacker' } }, await as(unchangedClient))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call({ i: { phone: 'call me' } }, await as(unchangedClient))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call({ i: { trainerProfile: { bio: 'x' } } }, await as(unchangedClient))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await snapshot()).toEqual(snap);
  });

  it('lets an admin change another user, with the event naming that user', async () => {
    const before = (await outbox()).length;
    const res = await call({ i: { userId: trainer.id, trainerProfile: { bio: 'Coach since 2010' } } }, await as(admin));
    expect(res.data!.updateProfile.trainerProfile.bio).toBe('Coach since 2010');
    const [event] = (await outbox()).slice(before);
    expect(event.envelope.data).toEqual({ user_id: trainer.id, changes: ['trainer_profile'] });
  });
});
