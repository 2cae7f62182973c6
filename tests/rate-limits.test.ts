import { DEMO_LOGINS, DEMO_PASSWORD, demoGym } from '@fitsync/demo-data';
import type { GatewayOptions, RunningGateway } from '@fitsync/gateway';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);

describe('probe', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
  }, 60_000);
  afterAll(async () => platform?.close());

  it('probe', async () => {
    const gw = await platform.startGateway({ rateLimits: { loginPerAccount: { points: 3, seconds: 900 } } });
    const post = async (query: string, variables = {}, headers: Record<string, string> = {}) => {
      const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
    };
    const two = `mutation { a: login(email: "${DEMO_LOGINS.client}", password: "x") { token } b: login(email: "${DEMO_LOGINS.client}", password: "${DEMO_PASSWORD}") { token } }`;
    console.log(JSON.stringify(await post(two)));
    const two2 = `mutation { b: login(email: "${DEMO_LOGINS.client}", password: "${DEMO_PASSWORD}") { token } a: login(email: "${DEMO_LOGINS.client}", password: "x") { token } }`;
    console.log(JSON.stringify(await post(two2)));
    for (let i = 0; i < 4; i++) console.log(JSON.stringify(await post(`mutation { login(email: "${DEMO_LOGINS.client}", password: "x") { token } }`)));
    console.log(JSON.stringify(await post(`mutation { login(email: "${DEMO_LOGINS.client}", password: "${DEMO_PASSWORD}") { token } }`)));
    console.log((await (await fetch(new URL('/metrics', gw.url))).text()).split('\n').filter((l) => l.includes('rate_limited')).join('\n'));
  });
});
