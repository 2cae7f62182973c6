// npm run bench -- --soak: the platform for a long while under dashboards, mutations and
// many graphql-ws subscribers, with the memory and handles of every process each minute.
// Both must stay flat: what grows with time rather than with load is a leak.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, portVariable, signUserToken, type SubgraphName } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import { createEventHub, type EventHub } from '../packages/events/src/ipc-hub.js';
import { BENCH_METRICS_TOKEN, readMetrics, sumOf } from './counters.js';
import { seedBenchData } from './data.js';
import { describeKind, ErrorTally, type ErrorKind } from './error-answers.js';
import { INSPECTOR_LINE, Inspector } from './inspector.js';
import { runCell, type CellResult } from './load.js';
import type { BenchOptions } from './options.js';
import { graphqlProbe, joinSubgraphs, spawnService, waitUntil, writeSupergraph, type Proc } from './processes.js';
import { buildWorkloads, requestBody } from './workloads.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (msg: string) => console.log(`soak │ ${msg}`);
const SUBSCRIPTION = 'subscription { unreadNotificationCountChanged }';
const RECORD = 'mutation Soak($w: Float) { recordBodyMetrics(input: { weightKg: $w }) { id weightKg } }';
const MARK_READ = 'mutation { markAllNotificationsRead }';

/** One process's figures at one moment. */
export interface ProcessSample {
  rssMb: number;
  heapUsedMb: number;
  /** The least heap seen in the minute (sampled every 10 s): what survives collections, not the garbage in between. */
  heapFloorMb?: number;
  /** The heap right after a full collection at the end of the minute (over the inspector): what the process keeps. */
  liveHeapMb?: number;
  /** Active handles (sockets, servers, timers with refs...) and all active resources, as Node counts them. */
  handles: number;
  resources: number;
}

interface MinuteSample {
  minute: number;
  at: string;
  load: number[];
  processes: Record<string, ProcessSample>;
  dashboards: CellResult;
  mutations: CellResult;
  subscribers: { open: number; received: number; errors: number; closed: number };
}

const mb = (bytes: number) => bytes / 2 ** 20;

async function sampleService(port: number): Promise<ProcessSample> {
  const text = await readMetrics(port);
  return {
    rssMb: mb(sumOf(text, 'process_resident_memory_bytes')),
    heapUsedMb: mb(sumOf(text, 'nodejs_heap_size_used_bytes')),
    handles: sumOf(text, 'nodejs_active_handles_total'),
    resources: sumOf(text, 'nodejs_active_resources_total'),
  };
}

function sampleSelf(): ProcessSample {
  const m = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    handles: resources.filter((r) => r !== 'Timeout' && r !== 'Immediate').length,
    resources: resources.length,
  };
}

/** Least-squares slope of ys over xs (per minute). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den ? num / den : 0;
}

/**
 * Flat, for a process: from the second minute on (the first warms caches, pools and JIT),
 * split in an earlier and a later half, the later half's low-water marks are no higher
 * than the earlier half's by more than max(3, 5%) active handles and max(2 MB, 5%) of heap.
 * The heap is the live heap, what survived a full collection at the end of the minute, when
 * the run measured it; else the heap floor (the least of six samples in the minute), which
 * counts whatever garbage no collection had taken yet, and so rose and fell with the load by
 * more than the threshold (the gateway's floor 90.5 to 103.8 MB over a 15-minute run whose
 * live heap stayed within 90.1 to 90.6 MB from minute 6 on). What a process keeps raises its low-water mark; more work in flight does not.
 * Fewer than three minutes after the first cannot tell: `flat` is undefined. The
 * least-squares slopes are for the reader.
 */
export function flatness(samples: { minute: number; s: ProcessSample }[]) {
  const steady = samples.length > 2 ? samples.slice(1) : samples;
  const first = steady[0].s;
  const last = steady[steady.length - 1].s;
  const xs = steady.map((x) => x.minute);
  // The heap after a full collection when the run measured it; else the minute's floor.
  const floorOf = (s: ProcessSample) => s.liveHeapMb ?? s.heapFloorMb ?? s.heapUsedMb;
  const heapSlope = slope(
    xs,
    steady.map((x) => floorOf(x.s)),
  );
  const rssSlope = slope(
    xs,
    steady.map((x) => x.s.rssMb),
  );
  const half = Math.floor(steady.length / 2);
  const low = (xs: typeof steady, k: (s: ProcessSample) => number) => Math.min(...xs.map((x) => k(x.s)));
  const earlier = steady.slice(0, half);
  const later = steady.slice(half);
  const handleGrowth = later.length && earlier.length ? low(later, (s) => s.handles) - low(earlier, (s) => s.handles) : 0;
  const heapGrowth = later.length && earlier.length ? low(later, floorOf) - low(earlier, floorOf) : 0;
  const flat =
    steady.length < 3 || samples.length < 4
      ? undefined
      : handleGrowth <= Math.max(3, low(earlier, (s) => s.handles) * 0.05) && heapGrowth <= Math.max(2, low(earlier, floorOf) * 0.05);
  return { flat, heapSlope, rssSlope, handleGrowth, heapGrowth, first, last };
}

type ToSubscribers = { url: string; tokens: string[] };
type FromSubscribers =
  { type: 'connected'; open: number } | { type: 'stats'; open: number; received: number; errors: number; closed: number; firstError?: string };

export async function runSoak(opts: BenchOptions): Promise<void> {
  const soak = opts.soak!;
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  const startedAt = new Date();
  const procs: Proc[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'fitsync-soak-'));
  let data: Awaited<ReturnType<typeof seedBenchData>> | undefined;
  let hub: EventHub | undefined;
  let subscribers: ChildProcess | undefined;
  let closeInspectors = () => {};
  const logFiles: WriteStream[] = [];
  const cleanup = async () => {
    closeInspectors();
    subscribers?.kill();
    const gateway = procs.find((p) => p.name === 'gateway');
    await gateway?.stop();
    await Promise.all(procs.map((p) => p.stop()));
    await hub?.close();
    await data?.dispose();
    await Promise.all(logFiles.map((f) => new Promise((r) => f.end(r))));
    await rm(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    say(`seeding scale ${opts.scale} into ${databaseUrl ? 'Postgres' : 'PGlite'}...`);
    data = await seedBenchData({ scale: opts.scale, databaseUrl });
    const gym = data.gym;

    // Without REDIS_URL the events and live messages go through an in-memory hub in this
    // process, as `npm start` runs them; with it, through Redis under a prefix of this run's own.
    hub = redisUrl ? undefined : createEventHub();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'never',
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      RATE_LIMIT_OPERATIONS: 'off',
      TRUSTED_DOCUMENTS: 'off',
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
      ...(redisUrl ? { REDIS_URL: redisUrl, EVENTS_PREFIX: `soak_${randomBytes(3).toString('hex')}` } : hub!.env),
    };
    // Every process runs with its inspector on a loopback port of the kernel's choosing (only the
    // benchmark starts them so): at the end of each minute the benchmark has it collect garbage
    // and reads the heap that survived, and --heap-snapshots DIR takes the gateway's snapshots.
    const inspectorUrls = new Map<string, Promise<string>>();
    // Every process's output (LOG_LEVEL=warn: its warnings and errors, one JSON line each) goes
    // to <out>/<date>-soak-logs/<name>.log, and stays in memory to find the lines that name an
    // error answer's correlation id.
    const outDir = resolve(ROOT, opts.out);
    const stamp = `${startedAt.toISOString().slice(0, 16).replace(':', '-')}-soak`;
    const logDir = join(outDir, `${stamp}-logs`);
    await mkdir(logDir, { recursive: true });
    const output: { name: string; line: string }[] = [];
    const start = (name: string, entry: string, portVariable: string, extra: NodeJS.ProcessEnv = {}) => {
      const file = createWriteStream(join(logDir, `${name}.log`));
      logFiles.push(file);
      let found!: (url: string) => void;
      inspectorUrls.set(name, new Promise<string>((r) => (found = r)));
      const p = spawnService({
        name,
        entry,
        portVariable,
        path: '/graphql',
        cwd: ROOT,
        env: { ...env, ...extra },
        nodeArgs: ['--inspect=127.0.0.1:0'],
        onLine: (line) => {
          const m = INSPECTOR_LINE.exec(line);
          if (m) found(m[1]);
          file.write(`${line}\n`);
          if (output.length < 200_000) output.push({ name, line });
        },
      });
      hub?.attach(p.child);
      procs.push(p);
      return p;
    };
    say(`starting the five subgraphs and the gateway (events: ${redisUrl ? 'Redis' : 'the npm start hub, in this process'})...`);
    // Each on a port of the kernel's choosing, joined up, and the supergraph's routing URLs at them.
    const subs = SUBGRAPHS.map((s) => start(s, join(ROOT, 'subgraphs', s, 'src/index.ts'), portVariable(s), data!.envFor(s)));
    const joined = await joinSubgraphs(subs);
    const supergraphPath = join(scratch, 'supergraph.graphql');
    await writeSupergraph(ROOT, joined.urls, supergraphPath);
    const gateway = start('gateway', join(ROOT, 'gateway/src/index.ts'), portVariable('gateway'), { SUPERGRAPH_PATH: supergraphPath, ...joined.urlEnv });
    await waitUntil(gateway, graphqlProbe(gateway));
    const ports: Record<SubgraphName | 'gateway', number> = { ...joined.ports, gateway: gateway.port };
    const inspectors = Object.fromEntries(
      await Promise.all([...inspectorUrls].map(async ([n, url]) => [n, await Inspector.connect(await url)] as const)),
    ) as Record<string, Inspector>;
    closeInspectors = () => Object.values(inspectors).forEach((i) => i.close());
    const self = new Session();
    self.connect();
    const liveHeaps = async () => {
      const out: Record<string, number> = {};
      for (const [n, i] of Object.entries(inspectors)) out[n] = await i.liveHeapMb();
      await self.post('HeapProfiler.collectGarbage');
      out[hub ? 'bench + hub' : 'bench'] = mb(process.memoryUsage().heapUsed);
      return out;
    };

    const [trainerDash, clientDash] = await buildWorkloads(gym, TEST_JWT_SECRET);
    const clients = gym.users.filter((u) => u.role === 'CLIENT');
    // Subscribers spread over the clients (at most 20 live connections per user), mutations
    // as the same clients: each recordBodyMetrics notifies its client, each markAllNotificationsRead clears it.
    const subscriberUsers = Array.from({ length: soak.subscribers }, (_, i) => clients[i % clients.length]);
    const subscriberTokens = await Promise.all(subscriberUsers.map((u) => signUserToken({ id: u.id, role: u.role }, TEST_JWT_SECRET, '24h')));
    const mutatingTokens = [...new Set(subscriberTokens)].slice(0, 200);

    let subStats: Extract<FromSubscribers, { type: 'stats' }> = { type: 'stats', open: 0, received: 0, errors: 0, closed: 0 };
    if (soak.subscribers > 0) {
      say(`opening ${soak.subscribers} graphql-ws subscribers (${SUBSCRIPTION}) in a child process...`);
      const child = fork(fileURLToPath(import.meta.url), ['--soak-subscribers'], { execArgv: ['--import', 'tsx/esm'], stdio: 'inherit' });
      subscribers = child;
      child.on('message', (m: FromSubscribers) => {
        if (m.type === 'stats') subStats = m;
      });
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: FromSubscribers) => {
          if (m.type === 'connected') {
            child.off('message', onMessage);
            resolve();
          }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`the subscriber process exited with ${code}`)));
        child.send({ url: gateway.url, tokens: subscriberTokens } satisfies ToSubscribers);
      });
      say(`${soak.subscribers} subscribers connected`);
    }

    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const dashboards = [trainerDash, clientDash];
    const names = [...SUBGRAPHS, 'gateway'] as const;
    const samples: MinuteSample[] = [];
    const row = (label: string, s: ProcessSample) =>
      `${label.padEnd(14)} RSS ${s.rssMb.toFixed(1).padStart(7)} MB  heap ${s.heapUsedMb.toFixed(1).padStart(6)} MB${s.heapFloorMb === undefined ? '' : ` (floor ${s.heapFloorMb.toFixed(1).padStart(6)})`}${s.liveHeapMb === undefined ? '' : `  live ${s.liveHeapMb.toFixed(1).padStart(6)} MB`}  handles ${String(s.handles).padStart(5)}  resources ${String(s.resources).padStart(5)}`;
    const sampleAll = async () => {
      const out: Record<string, ProcessSample> = {};
      for (const n of names) out[n] = await sampleService(ports[n]);
      out[hub ? 'bench + hub' : 'bench'] = sampleSelf();
      return out;
    };
    const baseline = await sampleAll();
    for (const [n, live] of Object.entries(await liveHeaps())) baseline[n].liveHeapMb = live;
    say(
      `minute 0 (before any load), load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const [n, s] of Object.entries(baseline)) say(`  ${row(n, s)}`);

    // Heap snapshots of the gateway between two minutes' load: after the first (caches and JIT
    // warm), the middle one and the last, to compare what grew (bench/heap-diff.ts).
    const snapshotDir = soak.heapSnapshots ? resolve(soak.heapSnapshots) : undefined;
    if (snapshotDir) await mkdir(snapshotDir, { recursive: true });
    const snapshotMinutes = new Set(snapshotDir ? [1, Math.ceil(soak.minutes / 2), soak.minutes] : []);
    const takeSnapshot = async (minute: number) => {
      const target = join(snapshotDir!, `gateway-minute-${String(minute).padStart(2, '0')}.heapsnapshot`);
      await inspectors.gateway.heapSnapshot(target);
      say(`heap snapshot of the gateway after minute ${minute}: ${target} (${mb((await stat(target)).size).toFixed(0)} MB)`);
    };

    // Each request carries a correlation id of the benchmark's (the gateway keeps a client's
    // and passes it to the subgraphs), which names its operation and minute: an error answer's
    // id finds its lines in the processes' logs.
    const tallies = { dashboards: new ErrorTally(), mutations: new ErrorTally() };
    let seq = 0;
    const idFor = (minute: number, op: string) => `soak-m${minute}-${op}-${++seq}`;
    const opOf = (id: string | undefined) => /^soak-m\d+-(.+)-\d+$/.exec(id ?? '')?.[1];
    const record = (tally: ErrorTally, minute: number) => (answer: Parameters<ErrorTally['add']>[0]) => {
      const h = answer.headers?.['x-correlation-id'];
      tally.add(answer, minute, opOf(Array.isArray(h) ? h[0] : h));
    };
    let weight = 70;
    say(`soak: ${soak.minutes} min, ${soak.rate} dashboards/s and ${soak.rate / 4} mutations/s, ${soak.subscribers} subscribers`);
    for (let minute = 1; minute <= soak.minutes; minute++) {
      const floors: Record<string, number> = {};
      const sampler = setInterval(() => {
        void sampleAll().then(
          (all) => {
            for (const [n, x] of Object.entries(all)) floors[n] = Math.min(floors[n] ?? Infinity, x.heapUsedMb);
          },
          () => undefined,
        );
      }, 10_000);
      const [dash, mut] = await Promise.all([
        runCell({
          url: gateway.url,
          connections: 4,
          durationSeconds: 60,
          rate: soak.rate,
          next: () => {
            const w = pick(dashboards);
            return { body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}`, 'x-correlation-id': idFor(minute, w.name) } };
          },
          onError: record(tallies.dashboards, minute),
        }),
        runCell({
          url: gateway.url,
          connections: 2,
          durationSeconds: 60,
          rate: soak.rate / 4,
          next: () => {
            weight = weight >= 90 ? 60 : weight + 0.1;
            const recordMetrics = Math.random() < 0.6;
            const body = recordMetrics ? JSON.stringify({ query: RECORD, variables: { w: +weight.toFixed(1) } }) : JSON.stringify({ query: MARK_READ });
            const op = recordMetrics ? 'recordBodyMetrics' : 'markAllNotificationsRead';
            return { body, headers: { authorization: `Bearer ${pick(mutatingTokens)}`, 'x-correlation-id': idFor(minute, op) } };
          },
          onError: record(tallies.mutations, minute),
        }),
      ]);
      clearInterval(sampler);
      const processes = await sampleAll();
      for (const [n, x] of Object.entries(processes)) x.heapFloorMb = Math.min(floors[n] ?? Infinity, x.heapUsedMb);
      for (const [n, live] of Object.entries(await liveHeaps())) processes[n].liveHeapMb = live;
      const sample: MinuteSample = {
        minute,
        at: new Date().toISOString(),
        load: loadavg().map((l) => +l.toFixed(2)),
        processes,
        dashboards: dash,
        mutations: mut,
        subscribers: { open: subStats.open, received: subStats.received, errors: subStats.errors, closed: subStats.closed },
      };
      samples.push(sample);
      say(
        `minute ${minute}: dashboards ${dash.rps.toFixed(1)}/s p99 ${dash.p99.toFixed(1)} ms (errors ${dash.errors + dash.non2xx + dash.graphqlErrors}), mutations ${mut.rps.toFixed(1)}/s p99 ${mut.p99.toFixed(1)} ms (errors ${mut.errors + mut.non2xx + mut.graphqlErrors}); subscribers open ${subStats.open}, messages ${subStats.received}, closed ${subStats.closed}, errors ${subStats.errors}${subStats.firstError ? ` (${subStats.firstError})` : ''}; load ${sample.load.join(' ')}`,
      );
      for (const [n, s] of Object.entries(processes)) say(`  ${row(n, s)}`);
      if (snapshotMinutes.has(minute)) await takeSnapshot(minute);
    }

    const verdicts = Object.keys(baseline).map((n) => ({ name: n, ...flatness(samples.map((x) => ({ minute: x.minute, s: x.processes[n] }))) }));
    say('');
    say(
      `after ${soak.minutes} min (from minute ${samples.length > 2 ? 2 : 1}; flat = the later half's low-water marks within max(3, 5%) handles and max(2 MB, 5%) live heap (after a full collection) of the earlier half's; 4 minutes at least to tell):`,
    );
    for (const v of verdicts)
      say(
        `  ${v.name.padEnd(14)} ${v.flat === undefined ? 'too short' : v.flat ? 'flat     ' : 'GROWING  '}  low-water growth ${v.handleGrowth} handles, ${v.heapGrowth.toFixed(1)} MB heap;  handles ${v.first.handles} → ${v.last.handles}  live heap ${(v.first.liveHeapMb ?? 0).toFixed(1)} → ${(v.last.liveHeapMb ?? 0).toFixed(1)} MB, floor ${(v.first.heapFloorMb ?? v.first.heapUsedMb).toFixed(1)} → ${(v.last.heapFloorMb ?? v.last.heapUsedMb).toFixed(1)} MB (${v.heapSlope >= 0 ? '+' : ''}${v.heapSlope.toFixed(2)} MB/min)  RSS ${v.first.rssMb.toFixed(1)} → ${v.last.rssMb.toFixed(1)} MB (${v.rssSlope >= 0 ? '+' : ''}${v.rssSlope.toFixed(2)} MB/min)`,
      );

    // What the error answers were, with the log lines that name each sample's correlation id.
    const errorAnswers: Record<string, { total: number; kinds: ErrorKind[] }> = {};
    for (const [workload, tally] of Object.entries(tallies)) {
      const kinds = tally.kinds();
      for (const k of kinds)
        for (const sample of k.samples) {
          const id = sample.correlationId;
          if (id)
            sample.logs = output
              .filter((o) => o.line.includes(id))
              .slice(0, 12)
              .map((o) => `[${o.name}] ${o.line.slice(0, 1500)}`);
        }
      errorAnswers[workload] = { total: tally.total, kinds };
    }
    say('');
    say(`error answers (by the first error of each: status, code, service, path, message; the processes' output in ${logDir}):`);
    for (const [workload, { total, kinds }] of Object.entries(errorAnswers)) {
      say(`  ${workload}: ${total}`);
      for (const k of kinds) {
        say(`  ${describeKind(k)}`);
        for (const sample of k.samples) {
          say(`        minute ${sample.minute} ${sample.at} ${sample.correlationId ?? '(no correlation id)'}: ${JSON.stringify(sample.errors).slice(0, 400)}`);
          for (const line of sample.logs ?? []) say(`          ${line.slice(0, 600)}`);
        }
      }
    }

    const file = join(outDir, `${stamp}.json`);
    await writeFile(
      file,
      JSON.stringify(
        {
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
          settings: { ...soak, scale: opts.scale, storage: databaseUrl ? 'postgres' : 'pglite', events: redisUrl ? 'redis' : 'hub' },
          baseline,
          samples,
          verdicts,
          errorAnswers,
        },
        null,
        2,
      ) + '\n',
    );
    say(`wrote ${file}`);
  } finally {
    await cleanup();
  }
}

/** The subscribers' own process, so their cost is not the gateway's or the hub's. */
async function subscriberProcess() {
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  const msg = await new Promise<ToSubscribers>((resolve) => process.once('message', (m) => resolve(m as ToSubscribers)));
  const stats = { open: 0, received: 0, errors: 0, closed: 0, firstError: undefined as string | undefined };
  const fail = (what: string) => {
    stats.errors++;
    stats.firstError ??= what.slice(0, 300);
  };
  const url = msg.url.replace(/^http/, 'ws');
  const BATCH = 100;
  for (let i = 0; i < msg.tokens.length; i += BATCH) {
    await Promise.all(
      msg.tokens.slice(i, i + BATCH).map(
        (token) =>
          new Promise<void>((resolve) => {
            let open = false;
            const client = createClient({
              url,
              webSocketImpl: WebSocket,
              retryAttempts: 0,
              lazy: false,
              connectionParams: { authorization: `Bearer ${token}` },
              on: {
                connected: () => {
                  open = true;
                  stats.open++;
                  resolve();
                },
                closed: () => {
                  if (open) stats.open--;
                  open = false;
                  stats.closed++;
                  resolve();
                },
              },
            });
            client.subscribe(
              { query: SUBSCRIPTION },
              {
                next: (v) => (v.data ? stats.received++ : fail(JSON.stringify(v.errors))),
                error: (err) => fail(err instanceof Error ? err.message : JSON.stringify(err)),
                complete: () => undefined,
              },
            );
          }),
      ),
    );
  }
  process.send!({ type: 'connected', open: stats.open });
  setInterval(() => process.send!({ type: 'stats', ...stats }), 1000);
}

if (process.argv.includes('--soak-subscribers')) void subscriberProcess();
