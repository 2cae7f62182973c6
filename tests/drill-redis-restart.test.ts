// Fault drill: Redis restarted under load. A PRIVATE redis-server (a unix socket in a temp
// folder, its append-only file synced on every write), reached through a TCP pass-through that
// listens on port 0, carries every domain event and live message of one platform. While a
// client records body metrics and watches its notifications over graphql-ws, the server is
// killed (SIGKILL), mutations go on without it, and it is started again on the same socket
// and files. Every mutation succeeds
// (its event waits in the outbox), every event is handled once (one notification per
// mutation), and the subscription carries on: it stays open and delivers again after the
// restart. The machine's shared Redis is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeWs, type LiveSubscription } from './support/live.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const RECORD = 'mutation Record($w: Float!) { recordBodyMetrics(input: { weightKg: $w, notes: "redis drill" }) { id } }';
const SUBSCRIPTION = 'subscription { notificationAdded { id type message } }';
const weightOf = (n: number) => (10_000 + n) / 10;
/** The drill starts a redis-server binary of its own (a server that can be killed): it runs where one is installed. */
const REDIS_SERVER = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A redis-server of this test's own on a unix socket, and a TCP pass-through to it on port 0. */
async function privateRedis(dir: string) {
  const socket = join(dir, 'redis.sock');
  let proc: ChildProcess | undefined;
  const piped = new Set<Socket>();
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const c = connect(socket);
      c.once('error', () => resolve(false));
      c.once('data', (d) => {
        c.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      c.write('PING\r\n');
    });
  const start = async () => {
    proc = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      { stdio: 'ignore' },
    );
    await vi.waitFor(async () => expect(await ping()).toBe(true), { timeout: 10_000, interval: 20 });
  };
  const kill = async () => {
    const p = proc!;
    const gone = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await gone;
    for (const s of piped) s.destroy();
  };
  const proxy: Server = createServer((downstream) => {
    const upstream = connect(socket);
    piped.add(downstream).add(upstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      piped.delete(downstream);
      piped.delete(upstream);
    };
    downstream.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  await start();
  return {
    url: `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    /** SIGKILL: nothing is flushed on the way out (the append-only file already holds every write). */
    kill,
    /** Starts it again on the same socket and files. */
    start,
    async close() {
      if (proc && proc.exitCode === null && proc.signalCode === null) await kill();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

describe.runIf(REDIS_SERVER)('Redis restarted under load', () => {
  let dir: string;
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let platform: Platform;
  let sub: LiveSubscription | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitsync-redis-drill-'));
    redis = await privateRedis(dir);
    platform = await startPlatform('pglite', [gym], { clock, transport: 'redis', redisUrl: redis.url });
  }, 120_000);
  afterAll(async () => {
    await sub?.dispose();
    await platform?.close();
    await redis?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loses no domain event and keeps the subscription delivering', async () => {
    const token = await platform.tokenFor(client);
    const notifications = () =>
      platform.databases.notifications.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM notifications WHERE recipient_id = $1 AND type = 'PROGRESS_UPDATED'",
        [client.id],
      );
    const [{ n: before }] = await notifications();
    sub = subscribeWs(platform.gatewayUrl, token, SUBSCRIPTION);
    const delivered = () => sub!.events.filter((e) => e.data?.notificationAdded?.type === 'PROGRESS_UPDATED').length;

    const answers: GraphQLResult[] = [];
    let n = 0;
    const record = async () => {
      const res = await platform.query(RECORD, { w: weightOf(++n) }, token);
      answers.push(res);
      return res;
    };
    // The subscription is live once a notification reaches it.
    await vi.waitFor(
      async () => {
        await record();
        expect(delivered()).toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 200 },
    );

    let running = true;
    const load = (async () => {
      while (running) await record();
    })();
    try {
      const warm = answers.length;
      await vi.waitFor(() => expect(answers.length).toBeGreaterThanOrEqual(warm + 3), { timeout: 10_000, interval: 20 });
      await redis.kill();
      // Mutations go on while Redis is away (their events wait in the outbox) ...
      const whileDown = answers.length;
      await vi.waitFor(() => expect(answers.length).toBeGreaterThanOrEqual(whileDown + 3), { timeout: 20_000, interval: 20 });
      await redis.start();
      // ... and after it is back.
      const sentBefore = answers.length;
      await vi.waitFor(() => expect(answers.length).toBeGreaterThanOrEqual(sentBefore + 5), { timeout: 20_000, interval: 20 });
      // The subscription delivers notifications of mutations made after the restart.
      const afterRestart = delivered();
      await vi.waitFor(() => expect(delivered()).toBeGreaterThan(afterRestart), { timeout: 20_000, interval: 20 });
    } finally {
      running = false;
      await load;
    }

    for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    // Every event written reached notifications, once: one notification per mutation.
    await platform.settle(30_000);
    const [{ n: after }] = await notifications();
    expect(after - before).toBe(answers.length);
    expect(sub.closed).toBeUndefined();
    expect(sub.errors).toEqual([]);
  }, 90_000);
});
