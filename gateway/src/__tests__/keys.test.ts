import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compose, formatProblems } from '@fitsync/composition';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { keyId, signUserToken, type Database, type PinnedClock, type RunningSubgraph } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, openTestDatabase, testClock, testConfig, testToken, withoutCost, type GraphQLResponse } from '@fitsync/service-kit/testing';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createGateway, type RunningGateway } from '../server.js';
import { STUB_NOTIFICATIONS_SDL, startStubNotifications, type StubNotifications } from './stub-notifications.js';
import { STUB_TRAINING_SDL, startStubTraining, type StubTraining } from './stub-training.js';

const gym = demoGym('2027-01-31');
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const usersSdl = readFileSync(new URL('../../../subgraphs/users/schema.graphql', import.meta.url), 'utf8');
const ME = '{ me { id role } }';
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
const soon = { timeout: 5_000 };

const OLD = 'keys-test-old-jwt-secret-0123456789';
const NEW = 'keys-test-new-jwt-secret-0123456789';
const SERVICE_OLD = 'keys-test-old-service-secret-012345';
const SERVICE_NEW = 'keys-test-new-service-secret-012345';

function supergraphOf(urls: { users: string; training: string; notifications?: string }) {
  const result = compose([
    { name: 'users', url: urls.users, sdl: usersSdl },
    { name: 'training', url: urls.training, sdl: STUB_TRAINING_SDL },
    ...(urls.notifications ? [{ name: 'notifications', url: urls.notifications, sdl: STUB_NOTIFICATIONS_SDL }] : []),
  ]);
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.supergraphSdl;
}

async function post<T = Record<string, any>>(url: string, query: string, token?: string, variables: Record<string, unknown> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  // The estimated cost every answer carries outside production is not what these tests are about.
  return { status: res.status, body: withoutCost((await res.json()) as GraphQLResponse<T> & { extensions?: Record<string, unknown> }) };
}

/** A node:http server on port 0 answering with `handler`. */
async function serve(handler: RequestListener): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('secrets rotate without logging anyone out', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let clock: PinnedClock;
  let training: StubTraining;
  const running: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    ({ clock } = testClock());
    training = await startStubTraining(() => [], clock);
    ({ db, dispose } = await openTestDatabase('users', usersSubgraph.migrationsDir, 'pglite'));
    await seedUsers(db, gym);
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.close();
  });
  afterAll(async () => {
    await training?.close();
    await dispose?.();
  });

  /** The users subgraph and a gateway in front of it, each with its own secrets, as during a rolling restart. */
  async function start(env: { users: Record<string, string>; gateway: Record<string, string> }) {
    const users = await startUsers(testConfig('users', 'pglite', undefined, env.users), { db, clock });
    running.push(users);
    // The stand-in for training (on the test secrets) is never asked: the operations here touch users only.
    const supergraphSdl = supergraphOf({ users: users.url, training: training.url });
    const gateway = await createGateway(testConfig('gateway', 'pglite', undefined, env.gateway), { supergraphSdl, clock, live: false });
    running.push(gateway);
    return { users, gateway };
  }
  const stop = async () => {
    for (const r of running.splice(0).reverse()) await r.close();
  };
  const login = async (gateway: RunningGateway) => {
    const res = await post(gateway.url, LOGIN, undefined, { e: DEMO_LOGINS.client, p: DEMO_PASSWORD });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.login.token as string;
  };

  it('accepts a token signed with the previous JWT_SECRET after the restart, signs new ones with the current one, and refuses one signed with neither', async () => {
    const before = { JWT_SECRET: OLD };
    let { gateway } = await start({ users: before, gateway: before });
    const oldToken = await login(gateway);
    expect(decodeProtectedHeader(oldToken).kid).toBe(keyId(OLD, 'user'));
    await stop();

    const rotated = { JWT_SECRET: NEW, JWT_SECRET_PREVIOUS: OLD };
    ({ gateway } = await start({ users: rotated, gateway: rotated }));
    expect(await post(gateway.url, ME, oldToken)).toEqual({ status: 200, body: { data: { me: { id: client.id, role: 'CLIENT' } } } });
    const newToken = await login(gateway);
    expect(decodeProtectedHeader(newToken).kid).toBe(keyId(NEW, 'user'));
    expect((await post(gateway.url, ME, newToken)).body.data?.me).toEqual({ id: client.id, role: 'CLIENT' });
    const neither = await signUserToken({ id: client.id, role: 'ADMIN' }, 'keys-test-some-other-secret-012345', '1h', clock);
    const refused = await post(gateway.url, ME, neither);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]).toMatchObject({ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } });
    await stop();

    // Once every old token has expired, the previous secret goes, and with it its tokens.
    ({ gateway } = await start({ users: { JWT_SECRET: NEW }, gateway: { JWT_SECRET: NEW } }));
    expect((await post(gateway.url, ME, oldToken)).body.errors?.[0]).toMatchObject({ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } });
    expect((await post(gateway.url, ME, newToken)).body.data?.me).toEqual({ id: client.id, role: 'CLIENT' });
  });

  it('lets the gateway and a subgraph on neighbouring steps of a SERVICE_SECRET rollout talk, both ways', async () => {
    const token = await testToken({ id: client.id, role: 'CLIENT' }, clock);
    const oldOnly = { SERVICE_SECRET: SERVICE_OLD };
    const step1 = { SERVICE_SECRET: SERVICE_OLD, SERVICE_SECRET_PREVIOUS: SERVICE_NEW };
    const step2 = { SERVICE_SECRET: SERVICE_NEW, SERVICE_SECRET_PREVIOUS: SERVICE_OLD };
    const pairs = [
      { users: step1, gateway: oldOnly },
      { users: oldOnly, gateway: step1 },
      // The subgraph restarted on the new pair, the gateway not yet; and the other way round.
      { users: step2, gateway: step1 },
      { users: step1, gateway: step2 },
      { users: step2, gateway: oldOnly },
      { users: { SERVICE_SECRET: SERVICE_NEW }, gateway: step2 },
    ];
    for (const env of pairs) {
      const { gateway } = await start(env);
      expect(await post(gateway.url, ME, token), JSON.stringify(env)).toEqual({ status: 200, body: { data: { me: { id: client.id, role: 'CLIENT' } } } });
      await stop();
    }
    // Skipping step 1: a subgraph that knows only the old secret cannot check the new one.
    const { gateway } = await start({ users: oldOnly, gateway: step2 });
    const refused = await post(gateway.url, ME, token);
    expect(refused.body.data?.me ?? null).toBeNull();
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', serviceName: 'users' });
  });
});

describe('tokens from an identity provider (JWT_JWKS_URL)', () => {
  const ISSUER = 'https://idp.fitsync.test/';
  const AUDIENCE = 'fitsync-graph';
  let clock: PinnedClock;
  let db: Database;
  let dispose: () => Promise<void>;
  let users: RunningSubgraph;
  let training: StubTraining;
  let notifications: StubNotifications;
  let jwks: Awaited<ReturnType<typeof serve>>;
  let bus: LiveBus;
  let supergraphSdl: string;
  const gateways: RunningGateway[] = [];
  let gateway: RunningGateway;
  const keys = {} as Record<'es' | 'rs' | 'stranger', { privateKey: CryptoKey; publicKey: CryptoKey; kid: string; alg: 'ES256' | 'RS256' }>;

  const gatewayWith = async (env: Record<string, string>) => {
    const g = await createGateway(
      testConfig('gateway', 'pglite', undefined, { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_ROLE_CLAIM: 'realm_access.roles', ...env }),
      { supergraphSdl, clock, live: { bus }, jwksTimeoutMs: 2_000 },
    );
    gateways.push(g);
    return g;
  };

  beforeAll(async () => {
    ({ clock } = testClock());
    for (const [name, alg] of [
      ['es', 'ES256'],
      ['rs', 'RS256'],
      ['stranger', 'ES256'],
    ] as const) {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      keys[name] = { privateKey, publicKey, kid: `${name}-1`, alg };
    }
    // The stranger's key signs too, but the provider does not publish it.
    const jwkSet = {
      keys: await Promise.all(
        (['es', 'rs'] as const).map(async (name) => ({ ...(await exportJWK(keys[name].publicKey)), kid: keys[name].kid, alg: keys[name].alg, use: 'sig' })),
      ),
    };
    jwks = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwkSet));
    });
    ({ db, dispose } = await openTestDatabase('users', usersSubgraph.migrationsDir, 'pglite'));
    await seedUsers(db, gym);
    users = await startUsers(testConfig('users'), { db, clock });
    training = await startStubTraining((id) => (id === client.id ? [trainer.id] : []), clock);
    notifications = await startStubNotifications(clock);
    supergraphSdl = supergraphOf({ users: users.url, training: training.url, notifications: notifications.url });
    bus = createInProcessLiveBus();
    gateway = await gatewayWith({ JWT_JWKS_URL: jwks.url });
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await bus?.close();
    await notifications?.close();
    await training?.close();
    await users?.close();
    await jwks?.close();
    await dispose?.();
  });

  const now = () => Math.floor(clock().getTime() / 1000);
  /** A token of the provider (or of a stranger's key), issued now by the pinned clock. */
  function idpToken(claims: JWTPayload, opts: { key?: keyof typeof keys; iss?: string; aud?: string; exp?: number } = {}) {
    const key = keys[opts.key ?? 'es'];
    return new SignJWT({ realm_access: { roles: ['offline_access', 'client'] }, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setSubject(claims.sub ?? client.id)
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt(now())
      .setExpirationTime(opts.exp ?? now() + 3600)
      .sign(key.privateKey);
  }

  it('accepts ES256 and RS256 tokens end to end, and subgraphs get a FitSync copy of the identity', async () => {
    const es = await idpToken({});
    training.seen.length = 0;
    const me = await post(gateway.url, '{ me { id role trainerIds } }', es);
    expect(me).toEqual({ status: 200, body: { data: { me: { id: client.id, role: 'CLIENT', trainerIds: [trainer.id] } } } });
    const forwarded = training.seen[0].authorization!.replace(/^Bearer /, '');
    expect(forwarded).not.toBe(es);
    expect(decodeProtectedHeader(forwarded)).toEqual({ alg: 'HS256', kid: keyId(TEST_JWT_SECRET, 'user') });
    expect(decodeJwt(forwarded)).toMatchObject({ sub: client.id, role: 'CLIENT', exp: decodeJwt(es).exp, iss: 'fitsync' });

    const rs = await idpToken({ sub: trainer.id, realm_access: { roles: ['TRAINER'] } }, { key: 'rs' });
    expect((await post(gateway.url, ME, rs)).body.data?.me).toEqual({ id: trainer.id, role: 'TRAINER' });
  });

  it("still accepts FitSync's own tokens (login, register), by their algorithm", async () => {
    const login = await post(gateway.url, LOGIN, undefined, { e: DEMO_LOGINS.trainer, p: DEMO_PASSWORD });
    expect((await post(gateway.url, ME, login.body.data?.login.token)).body.data?.me).toEqual({ id: trainer.id, role: 'TRAINER' });
    // An HS256 token claiming the provider's issuer is checked as FitSync's, and fails there.
    const forged = await new SignJWT({ role: 'ADMIN' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(client.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode('keys-test-guessed-secret-0123456789'));
    expect((await post(gateway.url, ME, forged)).body.errors?.[0]).toMatchObject({ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('refuses a wrong audience, a wrong issuer, a key not in the JWKS and an expired token with UNAUTHENTICATED before any subgraph is asked', async () => {
    const shortLived = await idpToken({}, { exp: now() + 60 });
    expect((await post(gateway.url, ME, shortLived)).body.data?.me).toEqual({ id: client.id, role: 'CLIENT' });
    const cases = [
      [await idpToken({}, { aud: 'some-other-app' }), 'Invalid token'],
      [await idpToken({}, { iss: 'https://evil.example/' }), 'Invalid token'],
      [await idpToken({}, { key: 'stranger' }), 'Invalid token'],
      [await idpToken({ sub: 'auth0|5f7c8ec7c33c6c004bbafe82' }), "The token's sub claim is not a FitSync user id"],
      ['not-a-jwt', 'Invalid token'],
    ] as const;
    training.seen.length = 0;
    for (const [token, message] of cases) {
      const res = await post(gateway.url, '{ me { id trainerIds } }', token);
      expect(res.status, message).toBe(401);
      expect(res.body).toEqual({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    clock.advance(60_000);
    try {
      const expired = await post(gateway.url, ME, shortLived);
      expect(expired.status).toBe(401);
      expect(expired.body.errors?.[0]).toMatchObject({ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      clock.advance(-60_000);
    }
    expect(training.seen).toHaveLength(0);
  });

  it('refuses a genuine token that grants no FitSync role, or two, with FORBIDDEN', async () => {
    for (const [roles, message] of [
      [['offline_access'], "The token's realm_access.roles claim grants no FitSync role (CLIENT, TRAINER or ADMIN)"],
      [['client', 'admin'], "The token's realm_access.roles claim grants more than one FitSync role (CLIENT, ADMIN)"],
    ] as const) {
      const res = await post(gateway.url, ME, await idpToken({ realm_access: { roles } }));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] });
    }
    const unmapped = await post(gateway.url, ME, await idpToken({ realm_access: undefined }));
    expect(unmapped.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('answers SERVICE_UNAVAILABLE (503), not a 500, when the JWKS cannot be fetched, and still serves FitSync tokens', async () => {
    const down = await serve((req) => req.socket.destroy());
    const failing = await serve((_req, res) => {
      res.writeHead(503);
      res.end('maintenance');
    });
    const garbage = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"keys": "no"}');
    });
    try {
      const token = await idpToken({});
      for (const idp of [down, failing, garbage]) {
        const g = await gatewayWith({ JWT_JWKS_URL: idp.url });
        const res = await post(g.url, ME, token);
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          errors: [
            { message: 'The identity provider could not be reached to check this token; try again shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } },
          ],
        });
        // The provider was really asked: the refusal is about its keys.
        expect(idp.hits()).toBeGreaterThan(0);
        const own = await post(g.url, ME, await testToken({ id: client.id, role: 'CLIENT' }, clock));
        expect(own.body.data?.me).toEqual({ id: client.id, role: 'CLIENT' });
      }
    } finally {
      await Promise.all([down.close(), failing.close(), garbage.close()]);
    }
  });

  it('checks subscription tokens the same way: accepted over WebSocket with events for its user, refused over SSE and WebSocket with the same codes', async () => {
    const counts: number[] = [];
    const ws = createClient({
      url: gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${await idpToken({})}` },
    });
    try {
      ws.subscribe<{ unreadNotificationCountChanged: number }>(
        { query: 'subscription { unreadNotificationCountChanged }' },
        { next: (v) => void counts.push(v.data!.unreadNotificationCountChanged), error: () => {}, complete: () => {} },
      );
      await vi.waitFor(() => expect(gateway.live!.active()).toBe(1), soon);
      // The primary fetch carries the FitSync copy, which the stand-in for notifications checks.
      await bus.publish('unreadNotificationCountChanged', { user_id: client.id, count: 7 });
      await vi.waitFor(() => expect(counts).toEqual([7]), soon);
    } finally {
      await ws.dispose();
    }

    const closeOf = async (g: RunningGateway, token: string) => {
      let closed: { code: number; reason: string } | undefined;
      const c = createClient({
        url: g.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams: { authorization: `Bearer ${token}` },
        on: { closed: (e) => void (closed = { code: (e as { code: number }).code, reason: String((e as { reason: string }).reason) }) },
        onNonLazyError: () => {},
      });
      await vi.waitFor(() => expect(closed).toBeDefined(), soon);
      await c.dispose();
      return closed!;
    };
    expect(await closeOf(gateway, await idpToken({}, { aud: 'some-other-app' }))).toEqual({ code: 4403, reason: 'Forbidden' });
    const down = await serve((req) => req.socket.destroy());
    try {
      const g = await gatewayWith({ JWT_JWKS_URL: down.url });
      expect((await closeOf(g, await idpToken({}))).code).toBe(1013);
      const unavailable = await fetch(g.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await idpToken({})}` },
        body: JSON.stringify({ query: 'subscription { unreadNotificationCountChanged }' }),
      });
      expect(unavailable.status).toBe(503);
      expect(((await unavailable.json()) as GraphQLResponse).errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await down.close();
    }

    const sse = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await idpToken({ realm_access: { roles: [] } })}` },
      body: JSON.stringify({ query: 'subscription { unreadNotificationCountChanged }' }),
    });
    expect(sse.status).toBe(403);
    expect((await sse.json()) as unknown).toEqual({
      errors: [{ message: "The token's realm_access.roles claim grants no FitSync role (CLIENT, TRAINER or ADMIN)", extensions: { code: 'FORBIDDEN' } }],
    });
  });
});
