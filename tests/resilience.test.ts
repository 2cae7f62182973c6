// Fault drills on real processes: a subgraph that accepts connections and never answers.
// The gateway waits at most the subgraph's deadline, opens that subgraph's breaker after
// repeated failures and then answers at once (the fields the subgraph owns null, each with
// SERVICE_UNAVAILABLE and the path it emptied, the rest served), probes after the cool-down,
// and closes when the subgraph answers again. An operation's own deadline bounds it however
// slow its subgraphs are.
import { createServer, type Server, type Socket } from 'node:net';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { operation } from './support/operations.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const DASHBOARD = operation('ClientDashboard');

/** A TCP server that takes every connection and never says a word: a hung process, as SIGSTOP leaves one. */
async function hungServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function timed(gw: RunningGateway, token: string): Promise<{ ms: number; res: GraphQLResult }> {
  const started = performance.now();
  const res = (await (
    await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: DASHBOARD }),
    })
  ).json()) as GraphQLResult;
  return { ms: performance.now() - started, res };
}

const breakerGauge = async (gw: RunningGateway, subgraph: string) => {
  const text = await (await fetch(gw.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('fitsync_gateway_breaker_state{') && l.includes(`subgraph="${subgraph}"`));
  return line ? Number(line.split(' ').pop()) : undefined;
};

const readiness = async (gw: RunningGateway) => {
  const res = await fetch(gw.url.replace(/\/graphql$/, '/ready'));
  const body = (await res.json()) as { detail?: { subgraphs?: Record<string, string> } };
  return { status: res.status, subgraphs: body.detail?.subgraphs };
};

describe('a hung subgraph', () => {
  let platform: Platform;
  let hung: Awaited<ReturnType<typeof hungServer>>;
  let token: string;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    hung = await hungServer();
    token = await platform.tokenFor(client);
  });
  afterAll(async () => {
    await platform?.close();
    await hung?.close();
  });

  it('is waited for at most its deadline, then fails fast behind an open breaker, and is asked again once it answers', async () => {
    const TIMEOUT = 1_500;
    const gw = await platform.startGateway({ subgraphTimeoutMs: TIMEOUT }, { BREAKER_MIN_REQUESTS: '3', BREAKER_COOLDOWN_MS: '300' });
    const healthy = await timed(gw, token);
    expect(healthy.res.errors).toBeUndefined();
    expect(await breakerGauge(gw, 'progress')).toBe(0);

    gw.moveSubgraph('progress', hung.url);
    // The first dashboards (three clients': identical requests of one would be sent once)
    // wait for the deadline, and no longer: the rest of the screen arrives.
    const clients = gym.users.filter((u) => u.role === 'CLIENT').slice(0, 3);
    const waited = await Promise.all(clients.map(async (c) => ({ c, ...(await timed(gw, await platform.tokenFor(c))) })));
    for (const { c, ms, res } of waited) {
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(ms).toBeLessThan(TIMEOUT + 2_000);
      expect(res.data?.me.name).toBe(c.name);
      expect(res.data?.me.progress).toBeNull();
    }
    // Now the breaker is open: answers come at once, saying so, with the path of each missing part.
    expect(await breakerGauge(gw, 'progress')).toBe(2);
    // ... and this gateway still serves: /ready says so, with the breaker in its detail.
    const ready = await readiness(gw);
    expect(ready.status).toBe(200);
    expect(ready.subgraphs).toMatchObject({ progress: 'breaker open', users: 'up' });
    const fast = await timed(gw, token);
    expect(fast.ms).toBeLessThan(TIMEOUT / 2);
    expect(fast.res.data?.me).toMatchObject({ name: client.name, progress: null, achievements: null });
    expect(fast.res.data?.me.upcomingBookings).toEqual(healthy.res.data?.me.upcomingBookings);
    const paths = fast.res.errors!.map((e) => e.path);
    expect(paths).toContainEqual(['me', 'progress']);
    expect(paths).toContainEqual(['me', 'achievements']);
    for (const e of fast.res.errors!) {
      expect(e).toMatchObject({
        message: 'The progress service is unavailable (circuit open)',
        extensions: { code: 'SERVICE_UNAVAILABLE', service: 'progress' },
      });
      expect(e.path?.length).toBeGreaterThan(0);
    }

    // Still hung through several cool-downs: the gateway probes it itself (a connection each
    // time), and no client's dashboard is the one that waits for the deadline.
    const before = hung.connections();
    const slowest = { ms: 0 };
    await vi.waitFor(
      async () => {
        const { ms, res } = await timed(gw, token);
        slowest.ms = Math.max(slowest.ms, ms);
        expect(res.data?.me.name).toBe(client.name);
        expect(hung.connections()).toBeGreaterThanOrEqual(before + 2);
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(slowest.ms).toBeLessThan(TIMEOUT / 2);

    // It answers again: after the cool-down the gateway's probe goes through, and the breaker
    // closes on its own, before any client asks.
    gw.moveSubgraph('progress', platform.subgraphs.progress.url);
    await vi.waitFor(async () => expect(await breakerGauge(gw, 'progress')).toBe(0), { timeout: 10_000, interval: 50 });
    expect((await timed(gw, token)).res.data?.me.progress).toEqual(healthy.res.data?.me.progress);
    expect(await breakerGauge(gw, 'progress')).toBe(0);
  });

  it('cannot hold an operation past its own deadline: what arrived is served, the rest is an error with its path', async () => {
    // A subgraph deadline longer than the operation's, and a breaker that never opens here.
    const gw = await platform.startGateway({ subgraphTimeoutMs: 20_000 }, { OPERATION_TIMEOUT_MS: '800', BREAKER_MIN_REQUESTS: '1000' });
    gw.moveSubgraph('progress', hung.url);
    const { ms, res } = await timed(gw, token);
    expect(ms).toBeLessThan(5_000);
    expect(res.data?.me.name).toBe(client.name);
    expect(res.data?.me.progress).toBeNull();
    expect(res.errors?.map((e) => e.path)).toContainEqual(['me', 'progress']);
    expect(res.errors?.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')).toBe(true);
  });

  it("tells in /ready a subgraph that refuses the gateway's credential from one that is up, and probes a configured health URL", async () => {
    // A gateway whose service secret no subgraph shares.
    const stranger = await platform.startGateway({}, { SERVICE_SECRET: 'not-the-platform-service-secret-0123' });
    const ready = await readiness(stranger);
    expect(ready.status).toBe(200);
    expect(ready.subgraphs).toEqual(Object.fromEntries(Object.keys(platform.subgraphs).map((n) => [n, "refuses the gateway's credential"])));

    // Health URLs: the subgraphs' own /health, and for progress one that does not answer.
    const health = (name: keyof typeof platform.subgraphs) => platform.subgraphs[name].url.replace(/\/graphql$/, '/health');
    const probed = await platform.startGateway({ readyTimeoutMs: 300 }, { USERS_HEALTH_URL: health('users'), PROGRESS_HEALTH_URL: hung.url });
    const detail = (await readiness(probed)).subgraphs!;
    expect(detail.users).toBe('up');
    expect(detail.training).toBe('up');
    expect(detail.progress).toMatch(/^down: /);
  });
});
