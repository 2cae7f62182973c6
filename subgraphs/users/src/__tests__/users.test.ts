import { SERVICE_TOKEN_HEADER, createServiceCredentials } from '@fitsync/service-kit';
import { TEST_SERVICE_SECRET, callSubgraph, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import type { RunningSubgraph as Running } from '@fitsync/service-kit';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUsers, startUsers, usersSubgraph } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;

describe.each(storageBackends())('users subgraph on %s', (backend) => {
  let server: Running;
  let dispose: () => Promise<void>;
  const call = (query: string, variables?: Record<string, unknown>, token?: string) => callSubgraph(server.url, query, variables, { token });

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

  it('publishes its federation SDL with the User entity and its key', async () => {
    const { body } = await call('{ _service { sdl } }');
    expect(body.data?._service.sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(body.data?._service.sdl).toMatch(/clientProfile: ClientProfile\s+@requires\(fields: "trainerIds"\)/);
  });

  it('resolves User references in key order in one SQL statement, null for unknown ids', async () => {
    const before = server.db.stats.statements;
    const ids = [trainer.id, '00000000-0000-4000-8000-000000000000', client.id];
    const { body } = await call(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name role } } }',
      { r: ids.map((id) => ({ __typename: 'User', id })) },
      await testToken({ id: admin.id, role: 'ADMIN' }, clock),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([{ id: trainer.id, name: trainer.name, role: 'TRAINER' }, null, { id: client.id, name: client.name, role: 'CLIENT' }]);
    expect(server.db.stats.statements - before).toBe(1);
  });

  it('refuses requests without a service credential', async () => {
    const res = await callSubgraph(server.url, '{ me { id } }', {}, { service: false });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logs in the demo client and returns a token that works for me', async () => {
    const { body } = await call('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id email role } } }', {
      e: DEMO_LOGINS.client,
      p: DEMO_PASSWORD,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.login.user).toEqual({ id: client.id, email: DEMO_LOGINS.client, role: 'CLIENT' });
    const me = await call('{ me { id name } }', {}, body.data?.login.token);
    expect(me.body.data?.me).toEqual({ id: client.id, name: client.name });
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const q = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
    const wrong = await call(q, { e: DEMO_LOGINS.client, p: 'not-the-password' });
    const unknown = await call(q, { e: 'nobody@fitsync.test', p: DEMO_PASSWORD });
    for (const r of [wrong, unknown]) {
      expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(r.body.errors?.[0].message).toBe('Invalid email or password');
    }
  });

  it('registers a client, refuses the same email twice and bad input', async () => {
    const q = 'mutation($i: RegisterInput!) { register(input: $i) { token user { id role clientProfile { fitnessLevel } } } }';
    const input = { email: `new-${backend}@fitsync.test`, password: 'long-enough-pw', name: 'New Person' };
    const first = await call(q, { i: input });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.register.user.role).toBe('CLIENT');
    const again = await call(q, { i: { ...input, email: input.email.toUpperCase() } });
    expect(again.body.errors?.[0].extensions?.code).toBe('CONFLICT');
    const short = await call(q, { i: { ...input, email: 'other@fitsync.test', password: 'short' } });
    expect(short.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    const adminSelf = await call(q, { i: { ...input, email: 'boss@fitsync.test', role: 'ADMIN' } });
    expect(adminSelf.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('hides private fields and client profiles from strangers, shows them to trainers of the client', async () => {
    const q = 'query($id: ID!) { user(id: $id) { name email } }';
    const asOther = await call(q, { id: client.id }, await testToken({ id: otherClient.id, role: 'CLIENT' }, clock));
    expect(asOther.body.data?.user).toEqual({ name: client.name, email: null });
    expect(asOther.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const profile = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { clientProfile { fitnessLevel } } } }';
    const asTrainer = await call(
      profile,
      { r: [{ __typename: 'User', id: client.id, trainerIds: [trainer.id] }] },
      await testToken({ id: trainer.id, role: 'TRAINER' }, clock),
    );
    expect(asTrainer.body.data?._entities[0].clientProfile.fitnessLevel).toBe(client.clientProfile!.fitnessLevel);
    const asStranger = await call(
      profile,
      { r: [{ __typename: 'User', id: client.id, trainerIds: [] }] },
      await testToken({ id: trainer.id, role: 'TRAINER' }, clock),
    );
    expect(asStranger.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it("shows addresses without a signed-in user to the notifications service's mail sender only", async () => {
    const q = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }';
    const as = async (service: string) =>
      callSubgraph(
        server.url,
        q,
        { r: [{ __typename: 'User', id: client.id }] },
        {
          service: false,
          headers: { [SERVICE_TOKEN_HEADER]: await createServiceCredentials(service, TEST_SERVICE_SECRET).token() },
        },
      );
    expect((await as('notifications')).body.data?._entities).toEqual([{ id: client.id, email: client.email }]);
    for (const other of ['gateway', 'schedule']) expect((await as(other)).body.errors?.[0].extensions?.code, other).toBe('UNAUTHENTICATED');
  });

  it('answers malformed and unknown ids with BAD_USER_INPUT and NOT_FOUND', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' }, clock);
    const bad = await call('{ user(id: "42; drop table users") { id } }', {}, token);
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await call('{ user(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, token);
    expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const anonymous = await call('{ me { id } }');
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('pages trainers for anyone and all users for admins only', async () => {
    const q =
      'query($role: Role, $after: String) { users(role: $role, first: 2, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }';
    const asClient = await testToken({ id: client.id, role: 'CLIENT' }, clock);
    const p1 = await call(q, { role: 'TRAINER' }, asClient);
    expect(p1.body.data?.users.totalCount).toBe(3);
    expect(p1.body.data?.users.pageInfo.hasNextPage).toBe(true);
    const p2 = await call(q, { role: 'TRAINER', after: p1.body.data?.users.pageInfo.endCursor }, asClient);
    const seen = [...p1.body.data!.users.edges, ...p2.body.data!.users.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(new Set(seen).size).toBe(3);
    const all = await call(q, {}, asClient);
    expect(all.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
