// Text no person typed (a NUL, half of a surrogate pair) is refused at the door, as
// BAD_USER_INPUT naming the field, in literals and variables, at the gateway and at a
// subgraph called directly; it never reaches Postgres, which would answer with its own
// message, and nothing is written.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { pinnedClock } from '@fitsync/service-kit/clock';
import { callSubgraph, storageBackends, testClock, testToken } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;

const UPDATE = 'mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { name } }';
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';

describe.each(storageBackends())('text inputs on %s', (backend) => {
  let platform: Platform;
  let token: string;
  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock });
    token = await platform.tokenFor(client);
  });
  afterAll(async () => {
    await platform?.close();
  });
  const nameInDatabase = async () => (await platform.databases.users.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [client.id]))[0].name;

  it.each([
    ['a NUL in a variable', LOGIN, { e: `client@fitsync.test\u0000`, p: 'x' }, 'email', /NUL/],
    ['an unpaired high surrogate in a nested variable', UPDATE, { i: { name: 'Ana \uD83D' } }, 'name', /surrogate/],
    ['an unpaired low surrogate', UPDATE, { i: { name: '\uDCA9 Ana' } }, 'name', /surrogate/],
    ['a NUL in a literal', 'mutation { updateProfile(input: { name: "Ana\\u0000" }) { name } }', {}, 'name', /NUL/],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_, query, variables, field, reason) => {
    const before = await nameInDatabase();
    const res = await platform.query(query, variables, token);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
    expect(res.errors![0].message).toMatch(reason);
    expect(JSON.stringify(res)).not.toMatch(/UTF8|byte sequence|postgres|INTERNAL/i);
    expect(await nameInDatabase()).toBe(before);
  });

  it('refuses a document with an unsafe literal every time it is sent, not only the first (the verdict is kept per document)', async () => {
    const query = 'mutation { updateProfile(input: { name: "Ana\\u0000 again" }) { name } }';
    const before = await nameInDatabase();
    for (let i = 0; i < 3; i++) {
      const res = await platform.query(query, {}, token);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
    }
    // A safe document of the same shape right after is served: the kept verdict is that document's alone.
    const safe = await platform.query('mutation { updateProfile(input: { name: "Ana again" }) { name } }', {}, token);
    expect(safe.errors).toBeUndefined();
    expect(safe.data).toEqual({ updateProfile: { name: 'Ana again' } });
    await platform.query(UPDATE, { i: { name: before } }, token);
    expect(await nameInDatabase()).toBe(before);
  });

  it('refuses the same at a subgraph called directly, with the service credential', async () => {
    const { status, body } = await callSubgraph(platform.subgraphs.users.url, UPDATE, { i: { name: 'x\u0000' } }, { token });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
  });

  it.each([
    ['names no UUID', () => testToken({ id: 'not-a-uuid', role: 'CLIENT' }, clock)],
    ['is not a JWT', async () => 'abc.def.ghi'],
    ['has expired', () => testToken(client, pinnedClock(new Date(clock().getTime() - 2 * 3_600_000)), '1h')],
    ['is not a bearer token', async () => undefined],
  ])('a subgraph called directly with a user token that %s answers 401 UNAUTHENTICATED, not 500', async (_, badToken) => {
    const bad = await badToken();
    const auth = bad === undefined ? { headers: { authorization: 'Basic Zm9vOmJhcg==' } } : { token: bad };
    const { status, body } = await callSubgraph(platform.subgraphs.users.url, '{ me { id } }', {}, auth);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The positive control: the same call with a good token is served.
    expect((await callSubgraph(platform.subgraphs.users.url, '{ me { id } }', {}, { token })).body.data).toEqual({ me: { id: client.id } });
  });

  it('a subscription sent to a subgraph that has none is a 400 GRAPHQL_VALIDATION_FAILED, not a 200 INTERNAL_SERVER_ERROR', async () => {
    const { status, body } = await callSubgraph(platform.subgraphs.users.url, 'subscription { me { id } }', {}, { token });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({ message: 'This service has no subscription operations', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    // A subgraph with subscriptions still takes the gateway's subscription fetches: the field itself answers.
    const own = await callSubgraph(platform.subgraphs.notifications.url, 'subscription { unreadNotificationCountChanged }', {}, { token });
    expect(own.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a list literal nested 40 levels deep for a Date argument is refused at once, and the gateway keeps serving', async () => {
    const deep = `${'['.repeat(40)}"2027-01-01"${']'.repeat(40)}`;
    const started = performance.now();
    const [res, health] = await Promise.all([
      fetch(platform.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ me { bookings(from: ${deep}) { id } } }` }),
      }),
      fetch(new URL('/health', platform.gatewayUrl)),
    ]);
    const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    // Generous: refused in validation, before the planner walks the value (2^40 steps).
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({ message: 'List values are nested more than 5 levels deep', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(health.status).toBe(200);
    // A plain Date literal still goes through.
    const shallow = await platform.query('{ me { bookings(first: 1, from: "2027-01-01") { id } } }', {}, token);
    expect(shallow.errors).toBeUndefined();
  });

  it.each([
    ['is not an object', ['x'], /object with __typename and id/],
    ['names a type the subgraph does not have', [{ __typename: 'Nope', id: client.id }], /names one of/],
    ['has no id', [{ __typename: 'User' }], /carries its id/],
  ])('an entity representation that %s is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async (_, representations, message) => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }';
    const { status, body } = await callSubgraph(platform.subgraphs.users.url, query, { r: representations }, { token });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(message);
    // The positive control: a good representation is resolved.
    const good = await callSubgraph(platform.subgraphs.users.url, query, { r: [{ __typename: 'User', id: client.id }] }, { token });
    expect(good.body).toEqual({ data: { _entities: [{ id: client.id }] } });
  });

  it('a variable with more bad values than graphql-js reports (it stops at 50) is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }';
    const { status, body } = await callSubgraph(platform.subgraphs.users.url, query, { r: Array.from({ length: 2_000 }, (_, i) => i) }, { token });
    expect(status).toBe(400);
    expect(body.errors?.length).toBeGreaterThan(0);
    for (const e of body.errors!) expect(e.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a number literal no JSON can carry (1e999) is refused by the gateway with a 400, not a 500', async () => {
    const res = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation { rescheduleBooking(id: "${client.id}", date: "2027-02-01", startTime: "07:00", endTime: -1e999) { id } }` }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(body.errors?.[0]).toMatchObject({ message: 'Number -1e999 is out of range', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('a field another subgraph owns (@external), selected at a subgraph directly, is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const { body } = await callSubgraph(platform.subgraphs.users.url, '{ me { id trainerIds } }', {}, { token });
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'trainerIds' } });
    // Through the gateway the same field is filled in by its owner (for the private fields that require it).
    const res = await platform.query('{ me { id clientProfile { fitnessLevel } } }', {}, token);
    expect(res.errors).toBeUndefined();
  });

  it('keeps text a person can type, emoji (a surrogate pair) included, and reads it back', async () => {
    const name = 'Zoë Ångström 💪';
    const res = await platform.query(UPDATE, { i: { name } }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateProfile).toEqual({ name });
    expect((await platform.query('{ me { name } }', {}, token)).data.me).toEqual({ name });
  });

  it.each([
    [
      'a variable',
      'mutation($i: AssignProgramInput!) { assignProgram(input: $i) { id } }',
      { i: { clientId: client.id, name: 'Forever', startDate: '9999-12-01', durationWeeks: 104 } },
    ],
    ['a literal', `mutation { assignProgram(input: { clientId: "${client.id}", name: "Forever", startDate: "9999-12-01", durationWeeks: 104 }) { id } }`, {}],
  ])("refuses a program starting in year 9999 in %s, writes nothing, and the client's programs still read", async (_, query, variables) => {
    const trainerToken = await platform.tokenFor(trainer);
    const count = async () => (await platform.databases.training.query<{ n: number }>('SELECT count(*)::int AS n FROM programs'))[0].n;
    const before = await count();
    const res = await platform.query(query, variables, trainerToken);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0].message).toMatch(/between 1900-01-01 and 2100-12-31/);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startDate' });
    expect(await count()).toBe(before);
    const read = await platform.query('{ me { activePrograms { id startDate endDate } } }', {}, token);
    expect(read.errors).toBeUndefined();
    expect(read.data.me.activePrograms.length).toBeGreaterThan(0);
  });
});
