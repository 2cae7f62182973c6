/**
 * Subscription benchmark (not a test): one gateway with 1,000 and 10,000 concurrent
 * graphql-ws subscribers, live messages published at 1,000 per second, each for one
 * subscriber's user; reports publish-to-receipt latency and gateway memory per idle
 * subscriber.
 *
 *   npm run bench:subscriptions                      # 1,000 and 10,000 subscribers, 10 s each
 *   npx tsx bench/subscriptions.ts --subscribers 2000 --rate 500 --seconds 5
 *   REDIS_URL=redis://127.0.0.1:6379 npm run bench:subscriptions -- --redis
 *   npm run bench:subscriptions -- --mode upstream   # a subgraph serving its own subscription over graphql-ws
 *   npm run bench:subscriptions -- --subscribers 10000 --cpu-profile /tmp   # a .cpuprofile of the publishing window
 *   npm run bench:subscriptions -- --split           # the notifications subgraph in a process of its own, as deployed
 *   npm run bench:subscriptions -- --json bench/results/x.json   # the rows (and load averages) as JSON too
 *
 * The gateway and the notifications subgraph (which resolves each message's primary
 * fetch) run in this process, or with `--split` the subgraph in a child process of its own
 * (so the gateway's CPU per message is its own, and the subgraph's is reported beside it);
 * the subscribers run in a child process so their cost is not counted as the gateway's. Every event goes the whole way: bus, gateway routing,
 * primary fetch to the subgraph over HTTP, result shaping, WebSocket. With `--mode upstream`
 * the field is `Subscription.tick` of a subgraph that serves it itself (bench/upstream-subgraph.ts,
 * in a process of its own): the gateway holds one upstream graphql-ws subscription per
 * subscriber (each is another user), and each message goes subgraph, gateway, client.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInProcessLiveBus, createRedisLiveBus, type LiveBus } from '@fitsync/live';
import { createGateway } from '@fitsync/gateway';
import { notificationsSubgraph, startNotifications } from '@fitsync/notifications';
import { signUserToken } from '@fitsync/service-kit';
import { openTestDatabase, TEST_JWT_SECRET, testConfig } from '@fitsync/service-kit/testing';
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import { TICKER_SDL, type FromTicker, type ToTicker } from './upstream-subgraph.js';

const QUERY = 'subscription { unreadNotificationCountChanged }';
const now = () => performance.timeOrigin + performance.now();

type ToChild = { users: string[]; tokens: string[]; url: string; query: string; field: string } | { type: 'measure' } | { type: 'report' };
/** How late a process's event loop ran while messages were published (ms): a busy subscriber process delays what it records. */
type LoopDelay = { p99: number; max: number; cpuMs: number };
/** The notifications subgraph's process (`--split`). */
type ToNotifications = { type: 'measure' } | { type: 'report' };
type FromNotifications = { type: 'listening'; url: string } | { type: 'cpu'; userMs: number; systemMs: number };
type FromChild =
  | { type: 'connected'; count: number }
  | { type: 'received'; seqs: number[]; at: number[] }
  | { type: 'error'; message: string }
  | ({ type: 'loop' } & LoopDelay);

/** CPU (user + system) this process spent since `since`, in ms: what a message costs, whatever else shares the machine. */
const cpuSince = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const loopDelay = (h: IntervalHistogram, cpuMs: number): LoopDelay => ({ p99: h.percentile(99) / 1e6, max: h.max / 1e6, cpuMs });

if (process.argv.includes('--subscriber-process')) {
  void subscriberProcess();
} else if (process.argv.includes('--notifications-process')) {
  void notificationsProcess();
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', multiple: true },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      redis: { type: 'boolean', default: false },
      mode: { type: 'string', default: 'broker' },
      'cpu-profile': { type: 'string' },
      split: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  if (values.mode !== 'broker' && values.mode !== 'upstream') throw new Error('--mode is broker or upstream');
  const upstream = values.mode === 'upstream' ? await startTicker() : undefined;
  const [query, field] = upstream ? ['subscription { tick }', 'tick'] : [QUERY, 'unreadNotificationCountChanged'];
  const sizes = (values.subscribers ?? ['1000', '10000']).map(Number);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);

  const notifications = values.split ? await startNotificationsProcess() : await startNotificationsHere();
  const sources = await loadSupergraphConfig(fileURLToPath(new URL('../supergraph.yaml', import.meta.url)));
  const composed = compose(upstream ? [...sources, { name: 'ticker', url: upstream.url, sdl: TICKER_SDL, subscriptions: 'ws' as const }] : sources);
  if (!composed.ok) throw new Error('supergraph.yaml does not compose');
  let bus: LiveBus;
  if (values.redis) {
    if (!process.env.REDIS_URL) throw new Error('--redis needs REDIS_URL');
    bus = createRedisLiveBus(process.env.REDIS_URL, `bench_${randomBytes(4).toString('hex')}`);
  } else {
    bus = createInProcessLiveBus();
  }
  const gateway = await createGateway(testConfig('gateway'), {
    supergraphSdl: composed.supergraphSdl,
    subgraphUrls: { notifications: notifications.url },
    live: { bus, maxQueuedEvents: 1_000 },
  });

  const layout = values.split ? 'split (notifications in its own process)' : 'one process (gateway and notifications)';
  console.log(
    `gateway ${gateway.url}, ${upstream ? 'upstream (graphql-ws subgraph)' : `bus: ${values.redis ? 'Redis' : 'in-process'}`}, ${layout}, ${rate} messages/s for ${seconds} s per run`,
  );
  // Upstream: each subscriber is another caller, so the gateway holds two sockets per subscriber (its client's, its upstream connection).
  const files = upstream ? await openFileLimit() : undefined;
  if (files !== undefined && files < 2 * Math.max(...sizes) + 100) {
    console.log(`note: ${files} open files allowed (ulimit -n); the gateway needs two per subscriber here, some upstream subscriptions will fail with EMFILE`);
  }
  const rows: string[] = [];
  const results: Record<string, unknown>[] = [];
  for (const size of sizes) rows.push(await run(size));
  console.log(
    '\nsubscribers | delivered | p50 ms | p99 ms | max ms | gateway heap/subscriber | gateway RSS/subscriber | gateway loop delay p99/max ms | subscribers loop delay p99/max ms | gateway CPU ms/message (user+sys) | notifications CPU ms/message | subscribers CPU ms/message | load average',
  );
  for (const r of rows) console.log(r);
  if (values.json) {
    const args = process.argv.slice(2).join(' ');
    await writeFile(
      values.json,
      JSON.stringify(
        { at: new Date().toISOString(), args, bus: values.redis ? 'redis' : 'in-process', mode: values.mode, layout, rate, seconds, runs: results },
        null,
        2,
      ) + '\n',
    );
    console.log(`results: ${values.json}`);
  }

  async function run(size: number): Promise<string> {
    const users = Array.from({ length: size }, () => randomUUID());
    const tokens = await Promise.all(users.map((id) => signUserToken({ id, role: 'CLIENT' }, TEST_JWT_SECRET, '1h')));
    const before = await memory();
    const child = fork(fileURLToPath(import.meta.url), ['--subscriber-process'], { execArgv: ['--import', 'tsx/esm'], stdio: 'inherit' });
    const published = new Map<number, number>();
    const latencies: number[] = [];
    child.on('message', (m: FromChild) => {
      if (m.type === 'received') {
        for (let i = 0; i < m.seqs.length; i++) latencies.push(m.at[i] - published.get(m.seqs[i])!);
      } else if (m.type === 'error') console.error('subscriber process:', m.message);
    });
    child.send({ users, tokens, url: gateway.url, query, field } satisfies ToChild);
    await waitFor(child, size);
    const deadline = Date.now() + 60_000;
    while (gateway.live!.active() < size && Date.now() < deadline) await sleep(50);
    // Upstream: until the subgraph holds every subscription (a message for one not yet open there is lost).
    while (upstream && (await upstream.subscribed()) < size && Date.now() < deadline) await sleep(50);
    const idle = await memory();
    const heapPer = (idle.heap - before.heap) / size;
    const rssPer = (idle.rss - before.rss) / size;
    console.log(`${size} subscribers connected; publishing`);

    const total = rate * seconds;
    const childLoop = new Promise<LoopDelay>((resolve) =>
      child.on('message', (m: FromChild) => {
        if (m.type === 'loop') resolve(m);
      }),
    );
    child.send({ type: 'measure' } satisfies ToChild);
    // --cpu-profile DIR: this process (gateway, subgraph, publisher) while the messages go out, not while subscribers connect.
    const profiler = values['cpu-profile'] ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const gatewayLoop = monitorEventLoopDelay({ resolution: 10 });
    gatewayLoop.enable();
    const gatewayCpu = process.cpuUsage();
    notifications.measure();
    const loadBefore = loadavg()[0];
    const started = now();
    for (let seq = 0; seq < total; seq++) {
      const due = started + (seq * 1000) / rate;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      published.set(seq, now());
      if (upstream) upstream.process.send({ user: users[seq % size], seq } satisfies ToTicker);
      else void bus.publish('unreadNotificationCountChanged', { user_id: users[seq % size], count: seq });
    }
    const drain = Date.now() + 10_000;
    while (latencies.length < total && Date.now() < drain) await sleep(50);
    gatewayLoop.disable();
    const gatewayCpuMs = cpuSince(gatewayCpu);
    const gatewayCpuSplit = process.cpuUsage(gatewayCpu);
    const subgraphCpu = await notifications.report();
    const loadAfter = loadavg()[0];
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = `${values['cpu-profile']}/subscriptions-${size}-${values.redis ? 'redis' : 'in-process'}.cpuprofile`;
      await writeFile(file, JSON.stringify(profile));
      profiler.disconnect();
      console.log(`CPU profile of the publishing window: ${file}`);
    }
    child.send({ type: 'report' } satisfies ToChild);
    const subscribersLoop = await childLoop;
    child.kill();
    await new Promise((r) => child.once('exit', r));
    while (gateway.live!.active() > 0) await sleep(50);

    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(1) ?? '-';
    const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
    const loop = (l: LoopDelay) => `${l.p99.toFixed(0)}/${l.max.toFixed(0)}`;
    const perMessage = (cpuMs: number) => (cpuMs / total).toFixed(2);
    const gatewayUser = gatewayCpuSplit.user / 1000;
    const gatewaySystem = gatewayCpuSplit.system / 1000;
    const subgraphCpuMs = subgraphCpu ? subgraphCpu.userMs + subgraphCpu.systemMs : undefined;
    const gatewayLoopDelay = loopDelay(gatewayLoop, gatewayCpuMs);
    results.push({
      subscribers: size,
      delivered: latencies.length,
      published: total,
      p50Ms: Number(pct(50)),
      p99Ms: Number(pct(99)),
      maxMs: Number(pct(100)),
      heapKBPerSubscriber: Number((heapPer / 1024).toFixed(1)),
      rssKBPerSubscriber: Number((rssPer / 1024).toFixed(1)),
      gatewayLoopDelayMs: { p99: gatewayLoopDelay.p99, max: gatewayLoopDelay.max },
      subscribersLoopDelayMs: { p99: subscribersLoop.p99, max: subscribersLoop.max },
      gatewayCpuMsPerMessage: { user: gatewayUser / total, system: gatewaySystem / total, total: gatewayCpuMs / total },
      ...(subgraphCpu
        ? { notificationsCpuMsPerMessage: { user: subgraphCpu.userMs / total, system: subgraphCpu.systemMs / total, total: subgraphCpuMs! / total } }
        : {}),
      subscribersCpuMsPerMessage: subscribersLoop.cpuMs / total,
      // A run that delivered only part of its messages did only part of the work: per delivered message too.
      gatewayCpuMsPerDelivered: latencies.length ? gatewayCpuMs / latencies.length : null,
      ...(subgraphCpuMs !== undefined ? { notificationsCpuMsPerDelivered: latencies.length ? subgraphCpuMs / latencies.length : null } : {}),
      loadAverage1m: { before: loadBefore, after: loadAfter },
    });
    const gatewayCpuText = `${perMessage(gatewayCpuMs)} (${perMessage(gatewayUser)}+${perMessage(gatewaySystem)})`;
    const subgraphCpuText =
      subgraphCpuMs === undefined ? 'in gateway' : `${perMessage(subgraphCpuMs)} (${perMessage(subgraphCpu!.userMs)}+${perMessage(subgraphCpu!.systemMs)})`;
    return `${String(size).padStart(11)} | ${`${latencies.length}/${total}`.padStart(9)} | ${pct(50).padStart(6)} | ${pct(99).padStart(6)} | ${pct(100).padStart(6)} | ${kb(heapPer).padStart(23)} | ${kb(rssPer).padStart(22)} | ${loop(gatewayLoopDelay).padStart(29)} | ${loop(subscribersLoop).padStart(33)} | ${gatewayCpuText.padStart(33)} | ${subgraphCpuText.padStart(28)} | ${perMessage(subscribersLoop.cpuMs).padStart(26)} | ${loadBefore.toFixed(1)}-${loadAfter.toFixed(1)}`;
  }

  await gateway.close();
  await notifications.close();
  await bus.close();
  upstream?.process.kill();
}

/** What the runs need of the notifications subgraph, wherever it runs. */
interface NotificationsHandle {
  url: string;
  /** Starts counting the subgraph's CPU (a process of its own only). */
  measure(): void;
  /** Its CPU since `measure`, or undefined when it shares the gateway's process (counted there). */
  report(): Promise<{ userMs: number; systemMs: number } | undefined>;
  close(): Promise<void>;
}

/** The notifications subgraph in this process: its CPU is counted as the gateway's. */
async function startNotificationsHere(): Promise<NotificationsHandle> {
  const db = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, 'pglite');
  const notifications = await startNotifications(testConfig('notifications'), { db: db.db });
  return {
    url: notifications.url,
    measure: () => undefined,
    report: async () => undefined,
    async close() {
      await notifications.close();
      await db.dispose();
    },
  };
}

/** `--split`: the notifications subgraph in a process of its own, as deployed (this bench's child with `--notifications-process`). */
async function startNotificationsProcess(): Promise<NotificationsHandle> {
  const child = fork(fileURLToPath(import.meta.url), ['--notifications-process'], { execArgv: ['--import', 'tsx/esm'], stdio: 'inherit' });
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: FromNotifications) => {
      if (m.type === 'listening') resolve(m.url);
    });
    child.once('exit', (code) => reject(new Error(`the notifications process exited with ${code}`)));
  });
  return {
    url,
    measure: () => child.send({ type: 'measure' } satisfies ToNotifications),
    report: () =>
      new Promise((resolve) => {
        const onMessage = (m: FromNotifications) => {
          if (m.type !== 'cpu') return;
          child.off('message', onMessage);
          resolve({ userMs: m.userMs, systemMs: m.systemMs });
        };
        child.on('message', onMessage);
        child.send({ type: 'report' } satisfies ToNotifications);
      }),
    async close() {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function notificationsProcess() {
  const db = await openTestDatabase('notifications', notificationsSubgraph.migrationsDir, 'pglite');
  const notifications = await startNotifications(testConfig('notifications'), { db: db.db });
  let cpu = process.cpuUsage();
  // The bench is gone (killed, or failed before killing this): so is its subgraph.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToNotifications) => {
    if (m.type === 'measure') cpu = process.cpuUsage();
    else if (m.type === 'report') {
      const d = process.cpuUsage(cpu);
      process.send!({ type: 'cpu', userMs: d.user / 1000, systemMs: d.system / 1000 } satisfies FromNotifications);
    }
  });
  process.send!({ type: 'listening', url: notifications.url } satisfies FromNotifications);
}

/** bench/upstream-subgraph.ts in a process of its own, listening. */
async function startTicker() {
  const ticker = fork(fileURLToPath(new URL('./upstream-subgraph.ts', import.meta.url)), ['--ticker-process'], {
    execArgv: ['--import', 'tsx/esm'],
    stdio: 'inherit',
  });
  const url = await new Promise<string>((resolve, reject) => {
    ticker.once('message', (m: FromTicker) => resolve((m as Extract<FromTicker, { type: 'listening' }>).url));
    ticker.once('exit', (code) => reject(new Error(`the upstream subgraph exited with ${code}`)));
  });
  /** Subscriptions the subgraph serves now. */
  const subscribed = () =>
    new Promise<number>((resolve) => {
      const onMessage = (m: FromTicker) => {
        if (m.type !== 'subscribed') return;
        ticker.off('message', onMessage);
        resolve(m.count);
      };
      ticker.on('message', onMessage);
      ticker.send({ type: 'count' } satisfies ToTicker);
    });
  return { process: ticker, url, subscribed };
}

/** This process's soft limit on open files (Linux), if it can be read. */
async function openFileLimit(): Promise<number | undefined> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
  return soft === undefined ? undefined : Number(soft);
}

async function memory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitFor(child: ChildProcess, size: number) {
  return new Promise<void>((resolve, reject) => {
    child.on('message', (m: FromChild) => {
      if (m.type === 'connected' && m.count === size) resolve();
    });
    child.once('exit', (code) => reject(new Error(`subscriber process exited with ${code}`)));
  });
}

async function subscriberProcess() {
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  const msg = await new Promise<Extract<ToChild, { users: string[] }>>((resolve) =>
    process.once('message', (m) => resolve(m as Extract<ToChild, { users: string[] }>)),
  );
  const send = (m: FromChild) => process.send!(m);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let cpu = process.cpuUsage();
  process.on('message', (m: ToChild) => {
    if (!('type' in m)) return;
    if (m.type === 'measure') {
      loop.reset();
      loop.enable();
      cpu = process.cpuUsage();
    } else if (m.type === 'report') {
      loop.disable();
      send({ type: 'loop', ...loopDelay(loop, cpuSince(cpu)) });
    }
  });
  let seqs: number[] = [];
  let failed = 0;
  let reported = 0;
  let at: number[] = [];
  setInterval(() => {
    if (failed > reported) {
      send({ type: 'error', message: `${failed} events with errors so far` });
      reported = failed;
    }
    if (seqs.length === 0) return;
    send({ type: 'received', seqs, at });
    seqs = [];
    at = [];
  }, 20);
  let connected = 0;
  const url = msg.url.replace(/^http/, 'ws');
  const BATCH = 250;
  for (let i = 0; i < msg.users.length; i += BATCH) {
    await Promise.all(
      msg.tokens.slice(i, i + BATCH).map(
        (token) =>
          new Promise<void>((resolve) => {
            const client = createClient({
              url,
              webSocketImpl: WebSocket,
              retryAttempts: 0,
              connectionParams: { authorization: `Bearer ${token}` },
              on: { connected: () => resolve() },
            });
            client.subscribe(
              { query: msg.query },
              {
                next: (v) => {
                  if (!v.data) {
                    if (failed++ === 0) send({ type: 'error', message: `event with errors: ${JSON.stringify(v.errors).slice(0, 400)}` });
                    return;
                  }
                  seqs.push((v.data as Record<string, number>)[msg.field]);
                  at.push(now());
                },
                error: (err) => send({ type: 'error', message: String(err instanceof Error ? err.message : JSON.stringify(err)) }),
                complete: () => undefined,
              },
            );
          }),
      ),
    );
    connected = Math.min(i + BATCH, msg.users.length);
  }
  send({ type: 'connected', count: connected });
}
