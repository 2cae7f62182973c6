// Fault drill: Redis restarted under load. A PRIVATE redis-server (a unix socket in a temp
// folder, keeping nothing on disk), reached through a TCP pass-through that listens on port 0
// (as a load balancer or a Kubernetes service would: while Redis is away the pass-through still
// accepts, then hangs up), carries every domain event and live message of one platform and the
// gateway's rate limits. While clients record body metrics through the gateway and watch their
// notifications over graphql-ws, the server is killed (SIGKILL) and started again EMPTY on the
// same socket. Every request answers within a bound, with its row or a coded error; every
// committed mutation's event is handled (one notification each, none lost, none doubled), and
// the subscriptions stay open and deliver what is published after the restart. The machine's
// shared Redis is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoGym } from '@fitsync/demo-data';
import { storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeWs, type LiveSubscription } from './support/live.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const RECORD = 'mutation Record($w: Float!) { recordBodyMetrics(input: { weightKg: $w, notes: "redis drill" }) { id weightKg } }';
const SUBSCRIPTION = 'subscription { notificationAdded { id type } }';
/** Clients recording at once, one loop each, each one also subscribed to its notifications. */
const CONCURRENCY = 3;
/** The longest a request may take, Redis or not: past it the drill's client gives up and the drill fails. */
const ANSWER_BOUND_MS = 5_000;
/** A mutation's weight tells it apart: 1000.0, 1000.1, ... (no demo gym's value is near these). */
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
    // Nothing on disk: a restart comes back empty (no streams, no consumer groups, no counters).
    proc = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
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
    /** SIGKILL: nothing is flushed on the way out, and nothing is kept. */
    kill,
    /** Starts it again, empty, on the same socket. */
    start,
    async close() {
      if (proc && proc.exitCode === null && proc.signalCode === null) await kill();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

type Phase = 'up' | 'down' | 'back';
interface Outcome {
  n: number;
  /** Whose loop sent it (0: the one with Idempotency-Key). */
  client: number;
  phase: Phase;
  ms: number;
  status?: number;
  body?: GraphQLResult;
  /** The drill's client gave up waiting (ANSWER_BOUND_MS) or the connection failed. */
  failure?: string;
}

describe.runIf(REDIS_SERVER).each(storageBackends())('Redis killed and restarted empty under load (%s)', (backend) => {
  let dir: string;
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let platform: Platform;
  const subs: LiveSubscription[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitsync-redis-drill-'));
    redis = await privateRedis(dir);
    platform = await startPlatform(backend, [gym], { clock, transport: 'redis', redisUrl: redis.url });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.dispose()));
    await platform?.close();
    await redis?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers every request within the bound, loses no event and keeps the subscriptions delivering', async () => {
    const clients = gym.users.filter((u) => u.role === 'CLIENT').slice(0, CONCURRENCY);
    const tokens = await Promise.all(clients.map((c) => platform.tokenFor(c)));
    const ids = clients.map((c) => c.id);
    for (const [i] of clients.entries()) subs.push(subscribeWs(platform.gatewayUrl, tokens[i], SUBSCRIPTION));
    const delivered = (i: number) => subs[i].events.filter((e) => e.data?.notificationAdded?.type === 'PROGRESS_UPDATED').length;

    const outcomes: Outcome[] = [];
    let phase: Phase = 'up';
    let next = 0;
    const record = async (i: number): Promise<Outcome> => {
      const n = ++next;
      const at = { n, phase, started: performance.now() };
      const done = (o: Omit<Outcome, 'n' | 'client' | 'phase' | 'ms'>) => {
        const outcome = { n, client: i, phase: at.phase, ms: performance.now() - at.started, ...o };
        outcomes.push(outcome);
        return outcome;
      };
      try {
        const res = await fetch(platform.gatewayUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[i]}`,
            // The first client's mutations carry Idempotency-Key: their keys are kept in Redis too.
            ...(i === 0 ? { 'idempotency-key': `redis-drill-${n}` } : {}),
          },
          body: JSON.stringify({ query: RECORD, variables: { w: weightOf(n) } }),
          signal: AbortSignal.timeout(ANSWER_BOUND_MS),
        });
        return done({ status: res.status, body: (await res.json()) as GraphQLResult });
      } catch (err) {
        const failure = `mutation ${n} (sent while Redis was ${at.phase}): ${(err as Error).name} ${(err as Error).message}`;
        console.error(`drill: ${failure}`);
        return done({ failure });
      }
    };
    const ok = (o: Outcome) => o.body?.errors === undefined && Boolean(o.body?.data?.recordBodyMetrics?.id);

    // Every subscription is live once a notification reaches it.
    for (const [i] of clients.entries()) {
      await vi.waitFor(
        async () => {
          expect(ok(await record(i))).toBe(true);
          expect(delivered(i)).toBeGreaterThan(0);
        },
        { timeout: 15_000, interval: 200 },
      );
    }

    let running = true;
    // One loop per client, each sending its next mutation as soon as the last one answered.
    const load = clients.map(async (_, i) => {
      while (running) await record(i);
    });
    const answered = (p: Phase) => outcomes.filter((o) => o.phase === p && (ok(o) || o.failure === undefined)).length;
    try {
      await vi.waitFor(() => expect(outcomes.filter(ok).length).toBeGreaterThanOrEqual(CONCURRENCY * 4), { timeout: 20_000, interval: 10 });
      phase = 'down';
      await redis.kill();
      // Requests go on while Redis is away (answered: a row, its event waiting in the outbox, or a coded error) ...
      await vi.waitFor(() => expect(answered('down')).toBeGreaterThanOrEqual(CONCURRENCY * 3), { timeout: 30_000, interval: 10 });
      await redis.start();
      phase = 'back';
      // ... and after it is back, every client's subscription delivers notifications of mutations made since.
      const since = clients.map((_, i) => delivered(i));
      await vi.waitFor(() => expect(outcomes.filter((o) => o.phase === 'back' && ok(o)).length).toBeGreaterThanOrEqual(CONCURRENCY * 3), {
        timeout: 30_000,
        interval: 10,
      });
      await vi.waitFor(() => clients.forEach((_, i) => expect(delivered(i), `client ${i}`).toBeGreaterThan(since[i])), { timeout: 30_000, interval: 20 });
      // Every client commits again, the one whose keys live in Redis too.
      await vi.waitFor(
        () =>
          clients.forEach((_, i) =>
            expect(
              outcomes.some((o) => o.client === i && o.phase === 'back' && ok(o)),
              `client ${i}`,
            ).toBe(true),
          ),
        {
          timeout: 30_000,
          interval: 20,
        },
      );
    } finally {
      running = false;
      await Promise.all(load);
    }

    // Nothing hangs: every request answered within the bound, a 200 with its row or coded errors.
    expect(outcomes.filter((o) => o.failure !== undefined).map((o) => o.failure)).toEqual([]);
    for (const o of outcomes) {
      // A mutation whose Idempotency-Key could not be checked is refused before it runs: 503.
      if (o.status === 503) expect(o.client, JSON.stringify(o.body)).toBe(0);
      else expect(o.status, JSON.stringify(o.body)).toBe(200);
      if (ok(o)) {
        expect(o.body!.data!.recordBodyMetrics.weightKg).toBe(weightOf(o.n));
        continue;
      }
      expect(o.body!.errors?.length, JSON.stringify(o.body)).toBeGreaterThan(0);
      for (const e of o.body!.errors!) {
        expect(['SERVICE_UNAVAILABLE', 'RATE_LIMITED'], JSON.stringify(e)).toContain(e.extensions?.code);
        expect(JSON.stringify(e)).not.toMatch(/redis|ECONNREFUSED|stream|\n\s+at |\.ts:/i);
      }
    }
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    const refusals: Record<string, number> = {};
    for (const o of outcomes.filter((x) => !ok(x))) {
      const key = `${o.phase} ${o.status} ${o.body?.errors?.map((e) => e.extensions?.code).join('+')}`;
      refusals[key] = (refusals[key] ?? 0) + 1;
    }
    console.info(
      `drill (${backend}): ${outcomes.length} mutations, ${outcomes.filter(ok).length} committed, slowest answer ${slowest.toFixed(0)} ms, ` +
        `while down ${outcomes.filter((o) => o.phase === 'down' && ok(o)).length} committed of ${outcomes.filter((o) => o.phase === 'down').length}; ` +
        `refused (phase, status, codes): ${JSON.stringify(refusals)}`,
    );

    // No event lost: every progress.updated the drill's mutations wrote (rows and events commit together) is
    // handled by notifications once the relay got through: one PROGRESS_UPDATED notification per event, none doubled.
    await platform.settle(30_000);
    const events = await platform.databases.progress.query<{ event_id: string }>(
      `SELECT envelope->>'event_id' AS event_id FROM event_outbox
        WHERE channel = 'progress.updated' AND envelope->'data'->>'client_id' = ANY($1::text[])
          AND (envelope->'data'->'new_value'->>'weight_kg')::float >= 1000`,
      [ids],
    );
    const rows = await platform.databases.progress.query<{ id: string }>(
      "SELECT id FROM body_metrics WHERE notes = 'redis drill' AND client_id::text = ANY($1::text[])",
      [ids],
    );
    expect(events.length).toBe(rows.length);
    for (const o of outcomes.filter(ok)) expect(rows.map((r) => r.id)).toContain(o.body!.data!.recordBodyMetrics.id);
    const wanted = events.map((e) => e.event_id).sort();
    await vi.waitFor(
      async () => {
        const notes = await platform.databases.notifications.query<{ event_id: string }>(
          "SELECT event_id FROM notifications WHERE type = 'PROGRESS_UPDATED' AND event_id = ANY($1::text[]) ORDER BY event_id",
          [wanted],
        );
        expect(notes.map((n) => n.event_id)).toEqual(wanted);
      },
      { timeout: 30_000, interval: 100 },
    );

    // The subscriptions carried on through it all: none closed or failed.
    for (const s of subs) {
      expect(s.closed).toBeUndefined();
      expect(s.errors).toEqual([]);
    }
  }, 150_000);
});
