import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { compose, formatProblems } from '@fitsync/composition';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import { CORRELATION_HEADER, SERVICE_TOKEN_HEADER, pinnedClock, signUserToken, type RunningSubgraph } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, callSubgraph, openTestDatabase, testConfig, testToken, type GraphQLResponse } from '@fitsync/service-kit/testing';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, createGateway, type RunningGateway } from '../server.js';
import { STUB_TRAINING_SDL, startStubTraining, type StubTraining } from './stub-training.js';

const gym = demoGym('2026-11-23');
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const usersSdl = readFileSync(new URL('../../../subgraphs/users/schema.graphql', import.meta.url), 'utf8');

function supergraphOf(urls: { users: string; training: string }) {
  const result = compose([
    { name: 'users', url: urls.users, sdl: usersSdl },
    { name: 'training', url: urls.training, sdl: STUB_TRAINING_SDL },
  ]);
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.supergraphSdl;
}

async function post<T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T> };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const TELEMETRY_VARIABLE_AT_START = process.env.APOLLO_TELEMETRY_DISABLED;
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id role } } }';

describe('gateway over the users subgraph and a stand-in for training', () => {
  let users: RunningSubgraph;
  let usersPort: number;
  let training: StubTraining;
  let gateway: RunningGateway;
  let dispose: () => Promise<void>;
  let db: RunningSubgraph['db'];
  const startUsersOn = (port: number) => startUsers(testConfig('users', 'pglite', undefined, { USERS_PORT: String(port) }), { db });

  beforeAll(async () => {
    const t = await openTestDatabase('users', usersSubgraph.migrationsDir, 'pglite');
    db = t.db;
    dispose = t.dispose;
    await seedUsers(db, gym);
    users = await startUsersOn(0);
    usersPort = users.port;
    training = await startStubTraining((id) => (id === client.id ? [trainer.id] : []));
    gateway = await createGateway(testConfig('gateway'), { supergraphSdl: supergraphOf({ users: users.url, training: training.url }) });
  });
  afterAll(async () => {
    await gateway?.close();
    await training?.close();
    await users?.close();
    await dispose?.();
  });

  it('logs in without a token, then answers me with fields from both subgraphs', async () => {
    const login = await post(gateway.url, LOGIN, { e: DEMO_LOGINS.client, p: DEMO_PASSWORD });
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.user).toEqual({ id: client.id, role: 'CLIENT' });

    const me = await post(gateway.url, '{ me { id name email nickname trainerIds clientProfile { fitnessLevel } } }', {}, bearer(login.body.data?.login.token));
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data?.me).toEqual({
      id: client.id,
      name: client.name,
      email: client.email,
      nickname: `nick-${client.id.slice(0, 8)}`,
      trainerIds: [trainer.id],
      clientProfile: { fitnessLevel: client.clientProfile!.fitnessLevel },
    });
  });

  it('echoes the client correlation id and forwards it, the token and its own credential to subgraphs', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    training.seen.length = 0;
    const res = await post(gateway.url, '{ me { nickname } }', {}, { ...bearer(token), [CORRELATION_HEADER]: 'corr-gateway-test-1' });
    expect(res.body.errors).toBeUndefined();
    expect(res.headers.get(CORRELATION_HEADER)).toBe('corr-gateway-test-1');
    expect(training.seen).toHaveLength(1);
    expect(training.seen[0][CORRELATION_HEADER]).toBe('corr-gateway-test-1');
    expect(training.seen[0].authorization).toBe(`Bearer ${token}`);
    expect(training.seen[0][SERVICE_TOKEN_HEADER]).toMatch(/^ey/);

    const generated = await post(gateway.url, '{ __typename }');
    expect(generated.headers.get(CORRELATION_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await post(gateway.url, '{ __typename }', {}, { [CORRELATION_HEADER]: 'has spaces and "quotes"' });
    expect(unsafe.headers.get(CORRELATION_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bad, expired and malformed tokens with UNAUTHENTICATED before asking any subgraph', async () => {
    // Issued in 2000 for an hour: long expired on any clock the gateway reads.
    const expired = await signUserToken({ id: client.id, role: 'CLIENT' }, TEST_JWT_SECRET, '1h', pinnedClock('2000-01-01T00:00:00Z'));
    const forged = await signUserToken({ id: client.id, role: 'ADMIN' }, 'some-other-secret-0123456789');
    const cases = [
      [{ authorization: `Bearer ${forged}` }, 'Invalid token'],
      [{ authorization: `Bearer ${expired}` }, 'Token expired'],
      [{ authorization: 'Basic dXNlcjpwdw==' }, 'Authorization header must be "Bearer <token>"'],
    ] as const;
    training.seen.length = 0;
    for (const [headers, message] of cases) {
      const res = await post(gateway.url, '{ me { id nickname } }', {}, headers);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]).toMatchObject({ message, extensions: { code: 'UNAUTHENTICATED' } });
      expect(res.body.errors?.[0].extensions).not.toHaveProperty('stacktrace');
    }
    expect(training.seen).toHaveLength(0);
  });

  it('passes subgraph errors through with their codes', async () => {
    const anonymous = await post(gateway.url, '{ me { id } }');
    expect(anonymous.body.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', serviceName: 'users' });
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    const bad = await post(gateway.url, '{ user(id: "not-a-uuid") { id } }', {}, bearer(token));
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const wrong = await post(gateway.url, LOGIN, { e: DEMO_LOGINS.client, p: 'wrong-password' });
    expect(wrong.body.errors?.[0]).toMatchObject({ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('gets through to a subgraph that refuses direct calls without a service credential', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    const direct = await callSubgraph(users.url, '{ me { id } }', {}, { token, service: false });
    expect(direct.status).toBe(401);
    expect(direct.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const via = await post(gateway.url, '{ me { id } }', {}, bearer(token));
    expect(via.body).toEqual({ data: { me: { id: client.id } }, extensions: { cost: { estimated: 1, max: expect.any(Number) } } });
  });

  it('reuses its connections to a subgraph', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    await post(gateway.url, '{ me { id } }', {}, bearer(token));
    let opened = 0;
    const count = () => opened++;
    users.server.on('connection', count);
    try {
      for (let i = 0; i < 10; i++) {
        const res = await post(gateway.url, '{ me { id } }', {}, bearer(token));
        expect(res.body.data?.me).toEqual({ id: client.id });
      }
    } finally {
      users.server.off('connection', count);
    }
    expect(opened).toBe(0);
  });

  it('serves GET with CSRF prevention', async () => {
    const query = encodeURIComponent('{ me { id } }');
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    const ok = await fetch(`${gateway.url}?query=${query}`, { headers: { ...bearer(token), 'apollo-require-preflight': 'true' } });
    expect(await ok.json()).toEqual({ data: { me: { id: client.id } }, extensions: { cost: { estimated: 1, max: expect.any(Number) } } });
    const simple = await fetch(`${gateway.url}?query=${query}`, { headers: bearer(token) });
    expect(simple.status).toBe(400);
  });

  it('refuses operations nested too deep or with too many aliases, but not introspection', async () => {
    let deep = '{ name }';
    for (let i = 0; i < 8; i++) deep = `{ fields { type ${deep} } }`;
    const tooDeep = await post(gateway.url, `{ __type(name: "User") ${deep} }`);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.errors?.[0]).toMatchObject({
      message: 'The operation is nested more than 15 levels deep',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });

    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ');
    const tooMany = await post(gateway.url, `query Bomb { ${aliases} }`);
    expect(tooMany.body.errors?.[0]).toMatchObject({
      message: 'Operation "Bomb" uses more than 30 aliases',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });

    const introspection = await post(gateway.url, getIntrospectionQuery());
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data?.__schema.queryType.name).toBe('Query');
  });

  it('answers /health, /ready with every subgraph, and /metrics', async () => {
    const base = new URL(gateway.url).origin;
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    const hash = gateway.supergraph.status().hash;
    expect(await ready.json()).toEqual({
      status: 'ready',
      detail: {
        supergraph: { hash, source: 'given', loadedAt: expect.any(String), reloads: 0 },
        subgraphs: { users: 'up', training: 'up' },
        trustedDocuments: {
          mode: 'allow',
          sources: [resolvePath('operations')],
          documents: 3, // operations/: the two dashboards and Unsubscribe
          hash: expect.any(String),
          loadedAt: expect.any(String),
          reloads: 0,
        },
      },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`fitsync_gateway_supergraph_info{hash="${hash}",service="gateway"} 1`);
    expect(metrics).toMatch(/fitsync_http_request_duration_seconds_count\{service="gateway",route="\/graphql",status="200"\} \d+/);
    expect(metrics).toMatch(/fitsync_gateway_subgraph_request_duration_seconds_count\{service="gateway",subgraph="users",outcome="ok"\} \d+/);
  });

  it('empties only the fields of a subgraph that is down, with SERVICE_UNAVAILABLE, and stays ready, saying so in the detail', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    const base = new URL(gateway.url).origin;
    await training.stop();
    try {
      const res = await post(gateway.url, '{ me { id name nickname } }', {}, bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.data?.me).toEqual({ id: client.id, name: client.name, nickname: null });
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors?.[0]).toMatchObject({
        message: 'The training service is unavailable',
        extensions: { code: 'SERVICE_UNAVAILABLE', service: 'training' },
      });
      // One subgraph down must not take every replica out of the load balancer.
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { detail: { subgraphs: unknown } }).detail.subgraphs).toMatchObject({
        users: 'up',
        training: expect.stringMatching(/^down: /),
      });
    } finally {
      await training.restart();
    }
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it('answers data null for the part owned by a stopped users subgraph', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' });
    const base = new URL(gateway.url).origin;
    await users.close();
    try {
      const res = await post(gateway.url, '{ me { id nickname } }', {}, bearer(token));
      expect(res.body.data).toEqual({ me: null });
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'users' });
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { detail: { subgraphs: Record<string, string> } }).detail.subgraphs.users).toMatch(/^down: /);
    } finally {
      users = await startUsersOn(usersPort);
    }
    const again = await post(gateway.url, '{ me { id } }', {}, bearer(token));
    expect(again.body.data?.me).toEqual({ id: client.id });
  });
});

describe('building the gateway apart from listening', () => {
  const supergraphSdl = supergraphOf({ users: 'http://127.0.0.1:9/graphql', training: 'http://127.0.0.1:9/graphql' });

  it('builds without binding a port, then listen() binds one and close() lets it go', async () => {
    const built = await buildGateway(testConfig('gateway'), { supergraphSdl, live: false });
    // @apollo/gateway's telemetry is off for its constructor only: after every gateway this file built, the environment is as it was.
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe(TELEMETRY_VARIABLE_AT_START);
    let running: RunningGateway | undefined;
    try {
      expect(built.server.listening).toBe(false);
      expect(built.supergraph.status().source).toBe('given');
      running = await built.listen(0, '127.0.0.1');
      expect(running.port).toBeGreaterThan(0);
      expect(running.url).toBe(`http://127.0.0.1:${running.port}/graphql`);
      expect(await (await fetch(new URL('/health', running.url))).json()).toEqual({ status: 'ok' });
      expect((await post(running.url, '{ __typename }')).body).toEqual({
        data: { __typename: 'Query' },
        extensions: { cost: { estimated: 0, max: expect.any(Number) } },
      });
      await expect(built.listen(0)).rejects.toThrow(/already listening/);
    } finally {
      await built.close();
    }
    expect(built.server.listening).toBe(false);
    await expect(fetch(new URL('/health', running.url))).rejects.toThrow();
  });

  it('createGateway rejects when its port is in use', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (taken.address() as AddressInfo).port;
      await expect(createGateway(testConfig('gateway', 'pglite', undefined, { GATEWAY_PORT: String(port) }), { supergraphSdl, live: false })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('gateway in front of a subgraph that misbehaves', () => {
  let mode: 'hang' | 'bad-gateway' = 'hang';
  let broken: Server;
  let gateway: RunningGateway;

  beforeAll(async () => {
    broken = createServer((req, res) => {
      if (mode === 'bad-gateway') res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
      // 'hang': accept the request and never answer
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/graphql`;
    gateway = await createGateway(testConfig('gateway'), {
      // The routing URLs point nowhere; the overrides are what the gateway must use.
      supergraphSdl: supergraphOf({ users: 'http://127.0.0.1:9/graphql', training: 'http://127.0.0.1:9/graphql' }),
      subgraphUrls: { users: url, training: url },
      subgraphTimeoutMs: 300,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    broken?.closeAllConnections();
    await new Promise((resolve) => broken?.close(resolve));
  });

  it('turns a timeout and a non-GraphQL 502 into SERVICE_UNAVAILABLE', async () => {
    expect(gateway.subgraphs.get('users')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(gateway.subgraphs.get('users')).not.toContain(':9/');
    for (const m of ['hang', 'bad-gateway'] as const) {
      mode = m;
      const started = performance.now();
      const res = await post(gateway.url, LOGIN, { e: DEMO_LOGINS.client, p: DEMO_PASSWORD });
      expect(res.body.data).toBeNull();
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          message: 'The users service is unavailable',
          extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'users' }),
        }),
      ]);
      if (m === 'hang') expect(performance.now() - started).toBeLessThan(5_000);
    }
  });
});
