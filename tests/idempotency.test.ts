// Mutations a client can retry: a mobile client on a bad network resends recordBodyMetrics
// with the same Idempotency-Key and gets the first answer, not a second row, also while the
// first is still running and also on another gateway replica (keys in Redis). The same key
// with other variables is refused; another caller's key is their own.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { redisUrlForTests, testClock } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const RECORD = 'mutation($i: BodyMetricsInput!) { recordBodyMetrics(input: $i) { id weightKg } }';

const transports = redisUrlForTests() ? (['memory', 'redis'] as const) : (['memory'] as const);

describe.each(transports)('Idempotency-Key on mutations (%s)', (transport) => {
  let platform: Platform;
  let token: string;
  let n = 0;
  const key = () => `retry-${transport}-${++n}`;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock, transport });
    token = await platform.tokenFor(client);
  });
  afterAll(async () => {
    if (transport === 'redis' && platform) {
      const redis = new Redis(redisUrlForTests()!);
      const keys = await redis.keys(`${platform.eventsPrefix}:idempotency:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await platform?.close();
  });

  const rows = async (userId = client.id) =>
    (await platform.databases.progress.query<{ n: number }>('SELECT count(*)::int AS n FROM body_metrics WHERE client_id = $1', [userId]))[0].n;

  async function send(gw: RunningGateway, body: object, headers: Record<string, string>, as = token) {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${as}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as { data?: any; errors?: any[] } };
  }
  const record = (weightKg: number, headers: Record<string, string>, gw = platform.gateway, as = token) =>
    send(gw, { query: RECORD, variables: { i: { weightKg } } }, headers, as);

  it('runs a mutation once per key: the repeat gets the first answer and writes nothing', async () => {
    const k = key();
    const before = await rows();
    const first = await record(81.5, { 'idempotency-key': k });
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    const again = await record(81.5, { 'idempotency-key': k });
    expect(again.status).toBe(200);
    expect(again.replayed).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await rows()).toBe(before + 1);
  });

  it('answers repeats sent while the first is still running with its answer', async () => {
    const k = key();
    const before = await rows();
    const answers = await Promise.all([1, 2, 3, 4].map(() => record(82, { 'idempotency-key': k })));
    expect(await rows()).toBe(before + 1);
    const ids = new Set(answers.map((a) => a.body.data?.recordBodyMetrics.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.replayed === 'true')).toHaveLength(3);
  });

  it('refuses the same key with other variables as CONFLICT, and runs nothing', async () => {
    const k = key();
    await record(83, { 'idempotency-key': k });
    const before = await rows();
    const other = await record(84, { 'idempotency-key': k });
    expect(other.status).toBe(422);
    expect(other.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT' });
    expect(other.body.data ?? null).toBeNull();
    expect(await rows()).toBe(before);
  });

  it("keeps each caller's keys apart, and runs without a key as often as sent", async () => {
    const k = key();
    const theirs = await platform.tokenFor(otherClient);
    const [mine, others] = [await rows(), await rows(otherClient.id)];
    await record(85, { 'idempotency-key': k });
    const their = await record(85, { 'idempotency-key': k }, platform.gateway, theirs);
    expect(their.replayed).toBeNull();
    expect(their.body.errors).toBeUndefined();
    expect(await rows(otherClient.id)).toBe(others + 1);
    await record(85, {});
    await record(85, {});
    expect(await rows()).toBe(mine + 3);
  });

  it('refuses a malformed key with BAD_REQUEST and ignores a key on a query', async () => {
    const before = await rows();
    for (const bad of ['has space', 'x'.repeat(256), 'tab\there']) {
      const res = await record(86, { 'idempotency-key': bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.errors?.[0].extensions?.code, bad).toBe('BAD_REQUEST');
    }
    expect(await rows()).toBe(before);
    const k = key();
    const q1 = await send(platform.gateway, { query: '{ me { name } }' }, { 'idempotency-key': k });
    const q2 = await send(platform.gateway, { query: '{ me { name } }' }, { 'idempotency-key': k });
    expect(q1.body.data).toEqual({ me: { name: client.name } });
    expect(q2.replayed).toBeNull();
  });

  // Only where the keys are in Redis: with memory, each replica keeps its own.
  if (transport === 'redis')
    it('replays on another gateway replica sharing Redis', async () => {
      const second = await platform.startGateway();
      const k = key();
      const before = await rows();
      const first = await record(87, { 'idempotency-key': k });
      const again = await record(87, { 'idempotency-key': k }, second);
      expect(again.replayed).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await rows()).toBe(before + 1);
    });
});
