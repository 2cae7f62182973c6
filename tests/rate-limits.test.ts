// The gateway's rate limits over the whole platform, counted in memory (one gateway each;
// tests/rate-limits-redis.test.ts shares the counts between two gateway processes): failed
// logins per account and per address with a growing block, registrations per address, the
// operation budget, live connection caps, and the client address behind TRUST_PROXY.
import { randomUUID } from 'node:crypto';
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import type { GatewayOptions, RunningGateway } from '@fitsync/gateway';
import type { RateLimitConfig } from '@fitsync/service-kit';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeSse, subscribeWs, until, type LiveSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;

const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { user { id } } }';
/** Every limit off but the ones a test names. */
const NONE: Partial<RateLimitConfig> = { loginPerAccount: null, loginPerAddress: null, registerPerAddress: null, operations: null, liveConnections: null };

interface Answer {
  status: number;
  retryAfter: number | null;
  body: { data?: any; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
}

async function post(gw: RunningGateway, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const retryAfter = res.headers.get('retry-after');
  return { status: res.status, retryAfter: retryAfter === null ? null : Number(retryAfter), body: (await res.json()) as Answer['body'] };
}
const codes = (a: Answer) => (a.body.errors ?? []).map((e) => e.extensions?.code);
const login = (gw: RunningGateway, email: string, password: string, headers?: Record<string, string>) => post(gw, LOGIN, { e: email, p: password }, headers);
const refusedBy = (a: Answer, limit: string) => {
  expect(a.status).toBe(429);
  expect(a.body.errors).toEqual([
    { message: expect.stringMatching(/^Too many .+; try again in \d+ s$/), extensions: { code: 'RATE_LIMITED', limit, retryAfter: a.retryAfter } },
  ]);
  expect(a.body.data).toBeUndefined();
};
const refusals = async (gw: RunningGateway, limit: string) => {
  const text = await (await fetch(new URL('/metrics', gw.url))).text();
  return Number(new RegExp(`^fitsync_gateway_rate_limited_total\\{limit="${limit}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
};
const newAccount = (n: string) => ({ email: `rl-${n}-${randomUUID().slice(0, 8)}@example.test`, password: 'long-enough-password', name: `Rate ${n}` });

describe('rate limits at the gateway', () => {
  let platform: Platform;
  /** A gateway of its own for each test: fresh counts. */
  const gateway = (rateLimits: Partial<RateLimitConfig>, opts: GatewayOptions = {}) =>
    platform.startGateway({ live: false, ...opts, rateLimits: { ...NONE, ...rateLimits } });

  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
  }, 60_000);
  afterAll(async () => platform?.close());

  it('blocks an account after its failed logins, before the users subgraph is asked: the right password is refused too', async () => {
    const gw = await gateway({ loginPerAccount: { points: 3, seconds: 900 }, loginBlockSeconds: 600, loginBlockMaxSeconds: 3600 });
    for (let i = 0; i < 3; i++) expect(codes(await login(gw, DEMO_LOGINS.client, `wrong-${i}`))).toEqual(['UNAUTHENTICATED']);
    // The same account however it is spelled.
    const blocked = await login(gw, `  ${DEMO_LOGINS.client.toUpperCase()} `, DEMO_PASSWORD);
    refusedBy(blocked, 'login_account');
    expect(blocked.retryAfter).toBe(600);
    const again = await login(gw, DEMO_LOGINS.client, DEMO_PASSWORD);
    refusedBy(again, 'login_account');
    expect(again.retryAfter).toBeGreaterThan(590);
    expect(again.retryAfter).toBeLessThanOrEqual(600);
    // Positive control: another account logs in from the same address.
    const other = await login(gw, DEMO_LOGINS.trainer, DEMO_PASSWORD);
    expect(other.body.errors).toBeUndefined();
    expect(other.body.data.login.token).toEqual(expect.any(String));
    expect(await refusals(gw, 'login_account')).toBe(2);
  });

  it('a successful login resets the count of its account', async () => {
    const gw = await gateway({ loginPerAccount: { points: 3, seconds: 900 } });
    // Two failures and a success, three times: six failures in all, never three in a row.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) expect(codes(await login(gw, DEMO_LOGINS.client, 'wrong'))).toEqual(['UNAUTHENTICATED']);
      expect((await login(gw, DEMO_LOGINS.client, DEMO_PASSWORD)).body.data.login.token).toEqual(expect.any(String));
    }
    // Positive control: the count is live, three failures and the fourth attempt is refused.
    for (let i = 0; i < 3; i++) expect(codes(await login(gw, DEMO_LOGINS.client, 'wrong'))).toEqual(['UNAUTHENTICATED']);
    refusedBy(await login(gw, DEMO_LOGINS.client, DEMO_PASSWORD), 'login_account');
  });

  it('counts every login field of a document: aliases and fragments cannot buy many guesses for one', async () => {
    const gw = await gateway({ loginPerAccount: { points: 5, seconds: 900 } });
    const fifty = `mutation { ${Array.from({ length: 50 }, (_, i) => `g${i}: login(email: "${DEMO_LOGINS.client}", password: "guess-${i}") { token }`).join(' ')} }`;
    // More aliases than MAX_ALIASES are refused by validation before any limit; within it, by the account limit.
    const limitsOff = await gateway({ loginPerAccount: { points: 5, seconds: 900 } }, { limits: { maxAliases: 100 } });
    const bomb = await post(limitsOff, fifty);
    refusedBy(bomb, 'login_account');

    const six = `mutation { ...A ... on Mutation { b: login(email: "${DEMO_LOGINS.client}", password: "b") { token } } c: login(email: "${DEMO_LOGINS.client}", password: "c") { token } d: login(email: "${DEMO_LOGINS.client}", password: "d") { token } e: login(email: "${DEMO_LOGINS.client}", password: "e") { token } f: login(email: "${DEMO_LOGINS.client}", password: "f") { token } }
      fragment A on Mutation { a: login(email: "${DEMO_LOGINS.client}", password: "a") { token } }`;
    refusedBy(await post(gw, six), 'login_account');
    // The refused document blocked the account: its right password is refused now.
    refusedBy(await login(gw, DEMO_LOGINS.client, DEMO_PASSWORD), 'login_account');

    // Fields that did not run are not counted: @skip, or a sibling's failure ending the mutation first.
    const gw2 = await gateway({ loginPerAccount: { points: 3, seconds: 900 } });
    const skipped = `mutation($no: Boolean!) { a: login(email: "${DEMO_LOGINS.client}", password: "a") { token } b: login(email: "${DEMO_LOGINS.client}", password: "b") @skip(if: $no) { token } c: login(email: "${DEMO_LOGINS.client}", password: "c") @include(if: false) { token } }`;
    const one = await post(gw2, skipped, { no: true });
    expect(one.body.errors?.map((e) => e.path)).toEqual([['a']]);
    const two = await post(
      gw2,
      `mutation { a: login(email: "${DEMO_LOGINS.client}", password: "a") { token } b: login(email: "${DEMO_LOGINS.client}", password: "b") { token } }`,
    );
    expect(two.body.errors?.map((e) => e.path)).toEqual([['a']]);
    // Two failures so far (a, then a): one more is answered, and then the account is blocked.
    expect(codes(await login(gw2, DEMO_LOGINS.client, 'wrong'))).toEqual(['UNAUTHENTICATED']);
    refusedBy(await login(gw2, DEMO_LOGINS.client, DEMO_PASSWORD), 'login_account');
  });

  it('blocks longer on each further breach (Retry-After doubles)', async () => {
    const gw = await gateway({ loginPerAccount: { points: 1, seconds: 900 }, loginBlockSeconds: 1, loginBlockMaxSeconds: 3600 });
    expect(codes(await login(gw, DEMO_LOGINS.client, 'wrong'))).toEqual(['UNAUTHENTICATED']);
    const first = await login(gw, DEMO_LOGINS.client, 'wrong');
    refusedBy(first, 'login_account');
    expect(first.retryAfter).toBe(1);
    // Positive control for the end of the block: an attempt is answered again (and fails).
    await vi.waitFor(async () => expect(codes(await login(gw, DEMO_LOGINS.client, 'wrong'))).toEqual(['UNAUTHENTICATED']), { timeout: 10_000, interval: 200 });
    const second = await login(gw, DEMO_LOGINS.client, 'wrong');
    refusedBy(second, 'login_account');
    expect(second.retryAfter).toBe(2);
  });

  it('limits failed logins per address across accounts', async () => {
    const gw = await gateway({ loginPerAddress: { points: 3, seconds: 3600 }, loginPerAccount: { points: 100, seconds: 900 } });
    const emails = gym.users
      .filter((u) => u.email !== DEMO_LOGINS.trainer)
      .slice(0, 4)
      .map((u) => u.email);
    for (const email of emails.slice(0, 2)) expect(codes(await login(gw, email, 'wrong'))).toEqual(['UNAUTHENTICATED']);
    // A success from the address is not a failure, but does not wipe the failures before it either.
    expect((await login(gw, DEMO_LOGINS.trainer, DEMO_PASSWORD)).body.data.login.token).toEqual(expect.any(String));
    expect(codes(await login(gw, emails[2], 'wrong'))).toEqual(['UNAUTHENTICATED']);
    const refused = await login(gw, emails[3], DEMO_PASSWORD);
    refusedBy(refused, 'login_address');
    expect(refused.retryAfter).toBe(900);
  });

  it('limits registrations per address', async () => {
    const gw = await gateway({ registerPerAddress: { points: 2, seconds: 3600 } });
    for (const n of ['a', 'b']) {
      const ok = await post(gw, REGISTER, { i: newAccount(n) });
      expect(ok.body.errors).toBeUndefined();
    }
    const third = newAccount('c');
    const refused = await post(gw, REGISTER, { i: third });
    refusedBy(refused, 'register_address');
    expect(refused.retryAfter).toBeGreaterThan(3500);
    expect(refused.retryAfter).toBeLessThanOrEqual(3600);
    // Refused before the users subgraph was asked: the account does not exist.
    expect(await platform.databases.users.query('SELECT id FROM users WHERE email = $1', [third.email])).toEqual([]);
    expect(await refusals(gw, 'register_address')).toBe(1);
  });

  it('takes the address from X-Forwarded-For only with TRUST_PROXY', async () => {
    const direct = await platform.startGateway(
      { live: false, rateLimits: { ...NONE, registerPerAddress: { points: 1, seconds: 3600 } } },
      { TRUST_PROXY: '0' },
    );
    expect((await post(direct, REGISTER, { i: newAccount('d1') }, { 'x-forwarded-for': '203.0.113.1' })).body.errors).toBeUndefined();
    refusedBy(await post(direct, REGISTER, { i: newAccount('d2') }, { 'x-forwarded-for': '203.0.113.2' }), 'register_address');

    const proxied = await platform.startGateway(
      { live: false, rateLimits: { ...NONE, registerPerAddress: { points: 1, seconds: 3600 } } },
      { TRUST_PROXY: '1' },
    );
    expect((await post(proxied, REGISTER, { i: newAccount('p1') }, { 'x-forwarded-for': '203.0.113.1' })).body.errors).toBeUndefined();
    expect((await post(proxied, REGISTER, { i: newAccount('p2') }, { 'x-forwarded-for': '203.0.113.2' })).body.errors).toBeUndefined();
    refusedBy(await post(proxied, REGISTER, { i: newAccount('p3') }, { 'x-forwarded-for': '203.0.113.1' }), 'register_address');
    // One hop trusted: the proxy's own entry, not what the client wrote before it.
    refusedBy(await post(proxied, REGISTER, { i: newAccount('p4') }, { 'x-forwarded-for': '198.51.100.9, 203.0.113.2' }), 'register_address');
  });

  it('gives every user an operation budget, and anonymous clients one per address', async () => {
    const gw = await gateway({ operations: { points: 3, seconds: 60 } });
    const token = await platform.tokenFor(client);
    const me = () => post(gw, '{ me { id } }', {}, { authorization: `Bearer ${token}` });
    for (let i = 0; i < 3; i++) expect((await me()).body.data.me.id).toBe(client.id);
    const refused = await me();
    refusedBy(refused, 'operations');
    expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    // Positive control: another user has a budget of their own.
    const other = await post(gw, '{ me { id } }', {}, { authorization: `Bearer ${await platform.tokenFor(trainer)}` });
    expect(other.body.data.me.id).toBe(trainer.id);
    // Anonymous operations share their address's budget.
    for (let i = 0; i < 3; i++) expect((await post(gw, '{ __typename }')).status).toBe(200);
    refusedBy(await post(gw, '{ __typename }'), 'operations');
    expect(await refusals(gw, 'operations')).toBe(2);
  });

  describe('live connections and subscriptions', () => {
    const subs: LiveSubscription[] = [];
    afterAll(async () => Promise.all(subs.map((s) => s.dispose())));
    const QUERY = 'subscription { unreadNotificationCountChanged }';

    it('caps the WebSocket and SSE connections of one user, and frees a slot when one closes', async () => {
      const gw = await gateway({ liveConnections: 1 }, { live: {} });
      const token = await platform.tokenFor(client);
      const first = subscribeWs(gw.url, token, QUERY);
      subs.push(first);
      await until(() => gw.live!.active() === 1, 5_000, 'the first subscription');

      const second = subscribeWs(gw.url, token, QUERY);
      subs.push(second);
      await until(() => second.closed !== undefined, 5_000, 'the second connection to be closed');
      expect(second.closed).toEqual({ code: 4429, reason: expect.stringMatching(/^RATE_LIMITED: Too many live connections/) });

      const sse = subscribeSse(gw.url, token, QUERY);
      const refused = await sse.refused;
      expect(refused.response?.status).toBe(429);
      expect(refused.response?.headers.get('retry-after')).toBe('5');
      sse.close();
      // Positive control: another user is not capped by this one's connections.
      const other = subscribeWs(gw.url, await platform.tokenFor(trainer), QUERY);
      subs.push(other);
      await until(() => gw.live!.active() === 2, 5_000, "the trainer's subscription");

      await first.dispose();
      await until(() => gw.live!.active() === 1, 5_000, 'the first connection to close');
      const third = subscribeWs(gw.url, token, QUERY);
      subs.push(third);
      await until(() => gw.live!.active() === 2, 5_000, 'a new connection once a slot is free');
      expect(await refusals(gw, 'live_connections')).toBe(2);
    });

    it('refuses a subscribe over the operation budget through the transport error path', async () => {
      const gw = await gateway({ operations: { points: 1, seconds: 60 } }, { live: {} });
      const token = await platform.tokenFor(client);
      const allowed = subscribeWs(gw.url, token, QUERY);
      subs.push(allowed);
      await until(() => gw.live!.active() === 1, 5_000, 'the first subscription');
      const refused = subscribeWs(gw.url, token, QUERY);
      subs.push(refused);
      await until(() => refused.errors.length > 0, 5_000, 'the refusal');
      expect(refused.errors[0]).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', limit: 'operations' }) })]);

      const sse = subscribeSse(gw.url, token, QUERY);
      const answer = await sse.refused;
      expect(answer.response?.status).toBe(429);
      expect(Number(answer.response?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      sse.close();
    });
  });
});
