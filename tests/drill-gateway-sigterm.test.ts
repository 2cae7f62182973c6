// Fault drill: the gateway process (gateway/src/index.ts, as deployed) gets SIGTERM under load.
// Dashboards in flight at that moment finish with their whole answers; requests that come
// after are refused cleanly (the connection refused, or a 503 with GraphQL JSON), never left
// hanging; open subscriptions, over graphql-ws and SSE, get `complete`; and the process exits 0.
// Progress is reached through a gate this test holds shut, so that "in flight" is a fact, not
// a matter of timing.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { demoGym } from '@fitsync/demo-data';
import { createRedisLiveBus, type LiveBus } from '@fitsync/live';
import { urlVariable } from '@fitsync/service-kit';
import { REQUIRE_SERVICES, redisUrlForTests, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { operation } from './support/operations.js';
import { subscribeSse, subscribeWs, type LiveSubscription, type SseSubscription } from './support/live.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const DASHBOARD = operation('ClientDashboard');
const IN_FLIGHT = 4;
const SUBSCRIPTION = 'subscription { unreadNotificationCountChanged }';

/** A pass-through to a subgraph that, once `hold()` is called, keeps every request until `release()`. */
async function gate(target: () => string) {
  let holding = false;
  const held: (() => void)[] = [];
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (holding) await new Promise<void>((resolve) => held.push(resolve));
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(k)),
    ) as Record<string, string>;
    const upstream = await fetch(target(), { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };
  const server: Server = createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    held: () => held.length,
    hold: () => void (holding = true),
    release() {
      holding = false;
      for (const r of held.splice(0)) r();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Attempt = { kind: 'answered'; status: number; body: GraphQLResult } | { kind: 'refused'; why: string } | { kind: 'hung' };

/**
 * One operation on a connection of its own (no keep-alive socket that the server may have just
 * ended), classified: answered (a status and its JSON), refused (the connection failed), or
 * hung (no answer in 10 s).
 */
function attempt(url: string, token: string, query = DASHBOARD): Promise<Attempt> {
  const body = JSON.stringify({ query });
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve({ kind: 'answered', status: res.statusCode!, body: JSON.parse(text) as GraphQLResult });
          } catch {
            resolve({ kind: 'answered', status: res.statusCode!, body: { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] } });
          }
        });
        res.on('error', (err) => resolve({ kind: 'refused', why: err.message }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ kind: 'hung' });
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'refused', why: err.code ?? err.message }));
    req.end(body);
  });
}

describe.runIf(Boolean(redisUrlForTests()) || REQUIRE_SERVICES)('the gateway stopped with SIGTERM under load', () => {
  const prefix = `t_sigterm_${randomBytes(4).toString('hex')}`;
  let platform: Platform;
  let progress: Awaited<ReturnType<typeof gate>>;
  let gateway: GatewayProcess;
  let url: string;
  let publisher: LiveBus;
  let subs: { ws: LiveSubscription; sse: SseSubscription } | undefined;

  beforeAll(async () => {
    const redisUrl = redisUrlForTests()!;
    platform = await startPlatform('pglite', [gym], { clock });
    progress = await gate(() => platform.subgraphs.progress.url);
    publisher = createRedisLiveBus(redisUrl, prefix);
    gateway = await spawnGateway(platform, {
      [urlVariable('progress')]: progress.url,
      // Live messages over Redis under this test's own prefix: the test publishes, the gateway delivers.
      REDIS_URL: redisUrl,
      EVENTS_PREFIX: prefix,
    });
    url = gateway.url;
  }, 120_000);

  afterAll(async () => {
    subs?.sse.close();
    await subs?.ws.dispose();
    await gateway?.close('SIGKILL');
    progress?.release();
    await progress?.close();
    await publisher?.close();
    await platform?.close();
  });

  it('finishes the requests in flight, refuses new ones cleanly, completes subscriptions, and exits 0', async () => {
    const clients = gym.users.filter((u) => u.role === 'CLIENT').slice(0, IN_FLIGHT + 1);
    const tokens = await Promise.all(clients.map((c) => platform.tokenFor(c)));
    const healthy = await attempt(url, tokens[0]);
    expect(healthy).toMatchObject({ kind: 'answered', status: 200 });

    // Two subscribers of one client, one per transport; both are live once an event reaches them
    // (pub/sub drops what is published before the gateway subscribed: publish until it arrives).
    subs = { ws: subscribeWs(url, tokens[0], SUBSCRIPTION), sse: subscribeSse(url, tokens[0], SUBSCRIPTION) };
    let count = 0;
    await vi.waitFor(
      async () => {
        await publisher.publish('unreadNotificationCountChanged', { user_id: clients[0].id, count: ++count });
        expect(subs!.ws.events.length).toBeGreaterThan(0);
        expect(subs!.sse.events.length).toBeGreaterThan(0);
      },
      { timeout: 15_000, interval: 100 },
    );

    // Dashboards in flight: each is held at progress until the gate opens.
    progress.hold();
    const inFlight = clients.slice(1).map((_, i) => attempt(url, tokens[i + 1]));
    await vi.waitFor(() => expect(progress.held()).toBe(IN_FLIGHT), { timeout: 15_000, interval: 10 });

    gateway.child.kill('SIGTERM');
    // The subscriptions end with `complete`, while the dashboards are still in flight.
    await vi.waitFor(
      () => {
        expect(subs!.ws.completed).toBe(true);
        expect(subs!.sse.completed).toBe(true);
      },
      { timeout: 10_000, interval: 10 },
    );
    expect(subs.ws.errors).toEqual([]);
    expect(subs.sse.errors).toEqual([]);
    // New requests are refused at once, never left hanging: the connection is refused (or a 503
    // JSON answers). One that came before the gateway stopped accepting is served (a query of
    // users alone, so the gate does not hold it).
    const late: Attempt[] = [];
    await vi.waitFor(
      async () => {
        const a = await attempt(url, tokens[0], '{ me { id name } }');
        late.push(a);
        expect(a.kind).toBe('refused');
      },
      { timeout: 10_000, interval: 20 },
    );
    for (const a of late) {
      if (a.kind === 'hung') throw new Error('a request after SIGTERM was left hanging');
      // Refused; or reset, when it was still in the listening socket's queue as that closed.
      if (a.kind === 'refused') expect(['ECONNREFUSED', 'ECONNRESET']).toContain(a.why);
      else if (a.status === 503) expect(a.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      else expect(a).toMatchObject({ status: 200, body: { data: { me: { name: clients[0].name } } } });
    }
    expect(gateway.child.exitCode).toBeNull();

    // The gate opens: every dashboard that was in flight gets its whole answer.
    progress.release();
    const answers = await Promise.all(inFlight);
    for (const [i, a] of answers.entries()) {
      expect(a, JSON.stringify(a)).toMatchObject({ kind: 'answered', status: 200 });
      const body = (a as Extract<Attempt, { kind: 'answered' }>).body;
      expect(body.errors).toBeUndefined();
      expect(body.data?.me.name).toBe(clients[i + 1].name);
      expect(body.data?.me.progress).not.toBeNull();
    }
    // ... and the process is gone, cleanly.
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect((await attempt(url, tokens[0])).kind).toBe('refused');
  }, 60_000);
});
