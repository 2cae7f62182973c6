// Login throttling shared by two gateway processes through Redis: this process's gateway
// and a real second one (gateway/src/index.ts, configured from the environment alone) on
// the same REDIS_URL and EVENTS_PREFIX, in front of one set of subgraphs. Failures counted
// by either add up, a block set by one holds on the other, and a success on one resets the
// account for both.
import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { REQUIRE_SERVICES, redisUrlForTests, testClock } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }';
const LIMITS = { RATE_LIMIT_LOGIN_ACCOUNT: '3/15m', RATE_LIMIT_LOGIN_BLOCK: '10m', RATE_LIMIT_LOGIN_ADDRESS: '100/1h' };

async function login(url: string, email: string, password: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: LOGIN, variables: { e: email, p: password } }),
  });
  const body = (await res.json()) as { data?: { login: { token: string } } | null; errors?: { extensions?: { code?: string; limit?: string } }[] };
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: body.errors?.[0]?.extensions?.code,
    limit: body.errors?.[0]?.extensions?.limit,
    token: body.data?.login.token,
  };
}

describe.runIf(Boolean(redisUrlForTests()) || REQUIRE_SERVICES)('login throttling across two gateway processes sharing Redis', () => {
  let platform: Platform;
  let first: RunningGateway;
  let second: GatewayProcess;
  let secondUrl: string;

  beforeAll(async () => {
    const redisUrl = redisUrlForTests()!;
    platform = await startPlatform('pglite', [gym], { clock });
    first = await platform.startGateway({ live: false }, { REDIS_URL: redisUrl, ...LIMITS });
    second = await spawnGateway(platform, { REDIS_URL: redisUrl, ...LIMITS });
    secondUrl = second.url;
  }, 90_000);

  afterAll(async () => {
    await second?.close();
    await platform?.close();
    // The counts this test left in Redis (blocks and breaches outlive it otherwise).
    const redis = new Redis(redisUrlForTests()!);
    const keys = await redis.keys(`${platform.eventsPrefix}:ratelimit:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('adds up failures from both gateways and blocks the account on both, the right password included', async () => {
    expect((await login(first.url, DEMO_LOGINS.client, 'wrong-1')).code).toBe('UNAUTHENTICATED');
    expect((await login(secondUrl, DEMO_LOGINS.client, 'wrong-2')).code).toBe('UNAUTHENTICATED');
    expect((await login(first.url, DEMO_LOGINS.client, 'wrong-3')).code).toBe('UNAUTHENTICATED');
    const onSecond = await login(secondUrl, DEMO_LOGINS.client, DEMO_PASSWORD);
    expect(onSecond).toMatchObject({ status: 429, retryAfter: '600', code: 'RATE_LIMITED', limit: 'login_account', token: undefined });
    const onFirst = await login(first.url, DEMO_LOGINS.client, DEMO_PASSWORD);
    expect(onFirst).toMatchObject({ status: 429, code: 'RATE_LIMITED', limit: 'login_account', token: undefined });
    expect(Number(onFirst.retryAfter)).toBeGreaterThan(590);
    // Positive control: the other accounts log in on either gateway.
    expect((await login(secondUrl, DEMO_LOGINS.trainer, DEMO_PASSWORD)).token).toEqual(expect.any(String));
  });

  it('a success on one gateway resets the account on the other', async () => {
    for (let round = 0; round < 2; round++) {
      expect((await login(first.url, DEMO_LOGINS.admin, 'wrong')).code).toBe('UNAUTHENTICATED');
      expect((await login(first.url, DEMO_LOGINS.admin, 'wrong')).code).toBe('UNAUTHENTICATED');
      expect((await login(secondUrl, DEMO_LOGINS.admin, DEMO_PASSWORD)).token).toEqual(expect.any(String));
    }
    // Positive control: without a success, the third failure in a row blocks.
    expect((await login(secondUrl, DEMO_LOGINS.admin, 'wrong')).code).toBe('UNAUTHENTICATED');
    expect((await login(secondUrl, DEMO_LOGINS.admin, 'wrong')).code).toBe('UNAUTHENTICATED');
    expect((await login(first.url, DEMO_LOGINS.admin, 'wrong')).code).toBe('UNAUTHENTICATED');
    expect(await login(first.url, DEMO_LOGINS.admin, DEMO_PASSWORD)).toMatchObject({ status: 429, limit: 'login_account' });
  });
});
