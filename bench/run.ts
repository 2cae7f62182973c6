// npm run bench: our gateway, plain @apollo/gateway and Hive Gateway side by side, in
// one run, on the same five subgraph processes, the same supergraph and the same load.
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_TOKEN_HEADER, SUBGRAPHS, createServiceCredentials, portVariable, urlVariable, type SubgraphName } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import { latencyChart } from './chart.js';
import { BENCH_METRICS_TOKEN, cpuSeconds, diffCounters, readSubgraphCounters } from './counters.js';
import { seedBenchData } from './data.js';
import { describeKind, ErrorTally } from './error-answers.js';
import { runCell, type CellResult } from './load.js';
import { parseOptions } from './options.js';
import { graphqlProbe, joinSubgraphs, spawnService, waitUntil, writeSupergraph, type Proc } from './processes.js';
import { cpuByLayer, selfTimeByPackage, topSelfTime } from './profile.js';
import { INSPECTOR_LINE, Inspector } from './inspector.js';
import { hungSubgraphWorkload, sameOperationWorkload, type HungResults, type SameOperationCell } from './resilience.js';
import { deferWorkload, type DeferCell } from './defer.js';
import { onRecordedSubgraphs, overheadWorkload, recordedOverhead, replayPlan, type OverheadResults } from './overhead.js';
import { runSoak } from './soak.js';
import { droppingReceiver, tracingEnv, tracingWorkload, type TracingCell } from './tracing.js';
import { environment, extraReport, markdownReport, type BenchResults, type GatewayCell, type FloorCell } from './report.js';
import { criticalPath, traceWorkloads, type GatewayName, type WorkloadTrace } from './trace.js';
import { buildWorkloads, requestBody, type Workload } from './workloads.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES: Record<GatewayName, string> = {
  ours: join(ROOT, 'gateway/src/index.ts'),
  apollo: join(ROOT, 'bench/gateways/apollo.ts'),
  hive: join(ROOT, 'bench/gateways/hive.ts'),
};
export const GATEWAY_LABELS: Record<GatewayName, string> = {
  ours: 'FitSync gateway',
  apollo: '@apollo/gateway (plain)',
  hive: 'Hive Gateway',
};
const say = (msg: string) => console.log(`bench │ ${msg}`);

async function main() {
  const opts = parseOptions();
  if (opts.soak) return runSoak(opts);
  if (opts.report) {
    const results = JSON.parse(await readFile(opts.report, 'utf8')) as BenchResults;
    const md = opts.report.replace(/\.json$/, '.md');
    // A run with --only has no side-by-side cells: only the sections of what it ran.
    await writeFile(md, Array.isArray(results.cells) ? markdownReport(results, basename(opts.report).replace(/\.json$/, '.svg')) : extraReport(results));
    say(`wrote ${md}`);
    return;
  }
  const startedAt = new Date();
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const procs: Proc[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'fitsync-bench-run-'));
  let data: Awaited<ReturnType<typeof seedBenchData>> | undefined;
  const cleanup = async () => {
    await Promise.all(procs.filter((p) => ENTRIES[p.name as GatewayName] || p.name.startsWith('ours')).map((p) => p.stop()));
    await Promise.all(procs.map((p) => p.stop()));
    await data?.dispose();
    await rm(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    say(`seeding scale ${opts.scale} into ${databaseUrl ? 'Postgres' : 'PGlite'}...`);
    data = await seedBenchData({ scale: opts.scale, databaseUrl });
    const gym = data.gym;
    say(
      `seeded ${gym.users.length} users, ${gym.bookings.length} bookings, ${gym.bodyMetrics.length} body metrics, ${gym.notifications.length} notifications in ${data.seedSeconds.toFixed(1)} s (${data.where})`,
    );

    // The traced platform of --only tracing gets its own copy of the embedded databases (one PGlite folder has one process).
    const tracedDataDir = opts.only?.includes('tracing') && data.envFor('users').DATA_DIR ? `${data.envFor('users').DATA_DIR}-traced` : undefined;
    if (tracedDataDir) await cp(data.envFor('users').DATA_DIR!, tracedDataDir, { recursive: true });

    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'never',
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      APOLLO_TELEMETRY_DISABLED: 'true',
      // A few users drive the load far past any per-user budget: the comparison is of gateways, not of our rate limits.
      RATE_LIMIT_OPERATIONS: 'off',
      // The peers serve any document; so does ours here (production would enforce the registry).
      TRUSTED_DOCUMENTS: 'off',
      // Production serves /metrics only to this token's holder; the run reads every process's.
      METRICS_TOKEN: BENCH_METRICS_TOKEN,
    };
    /** Five subgraph processes on ports of the kernel's choosing, joined up (joinSubgraphs). */
    const startSubgraphs = async (suffix: string, env: NodeJS.ProcessEnv, envFor: (s: SubgraphName) => NodeJS.ProcessEnv) => {
      const started = SUBGRAPHS.map((s) =>
        spawnService({
          name: `${s}${suffix}`,
          entry: join(ROOT, 'subgraphs', s, 'src/index.ts'),
          portVariable: portVariable(s),
          path: '/graphql',
          cwd: ROOT,
          env: { ...env, ...envFor(s) },
        }),
      );
      procs.push(...started);
      return { procs: started, ...(await joinSubgraphs(started)) };
    };

    say('starting the five subgraphs...');
    const { procs: subgraphProcs, urls, urlEnv, ports } = await startSubgraphs('', baseEnv, (s) => data!.envFor(s));
    const supergraphPath = join(scratch, 'supergraph.graphql');
    const supergraphSdl = await writeSupergraph(ROOT, urls, supergraphPath);
    const gatewayEnv: NodeJS.ProcessEnv = { ...baseEnv, SUPERGRAPH_PATH: supergraphPath, ...urlEnv };

    const startGateway = async (g: GatewayName, name: string = g, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}) => {
      const proc = spawnService({
        name,
        entry: ENTRIES[g],
        portVariable: 'GATEWAY_PORT',
        path: '/graphql',
        cwd: ROOT,
        nodeArgs,
        env: { ...gatewayEnv, ...env },
      });
      procs.push(proc);
      await waitUntil(proc, graphqlProbe(proc));
      return proc;
    };
    const only = opts.only;
    if (only) opts.gateways = ['ours'];
    say(`starting the gateways: ${opts.gateways.join(', ')}...`);
    const gateways = {} as Record<GatewayName, Proc>;
    for (const g of opts.gateways) gateways[g] = await startGateway(g);

    const workloads = await buildWorkloads(gym, TEST_JWT_SECRET);
    const show = (label: string, r: CellResult & { errorKinds?: GatewayCell['errorKinds'] }) => {
      say(
        `  ${label.padEnd(44)} ${r.rps.toFixed(1).padStart(8)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${r.errors + r.non2xx + r.graphqlErrors ? `  errors ${r.errors}/${r.non2xx}/${r.graphqlErrors}` : ''}`,
      );
      for (const k of r.errorKinds ?? []) say(`  ${describeKind(k, { minutes: false })}`);
    };
    const extraContext = {
      ports,
      say,
      show,
      startGateway: (name: string, env: NodeJS.ProcessEnv) => startGateway('ours', name, [], env),
      durationSeconds: opts.durationSeconds,
      connections: opts.connections,
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    // --only overhead replays our gateway's subgraph fetches as its floor: it needs them too.
    const needTraces = !only || only.includes('overhead');
    if (needTraces) say('tracing one operation per sampled user through each gateway (requests, representations, same answers)...');
    const traces = !needTraces
      ? new Map<string, WorkloadTrace>()
      : await traceWorkloads({
          supergraphSdl,
          supergraphPath,
          subgraphs: urls,
          serviceSecret: TEST_SERVICE_SECRET,
          workloads,
          usersPerWorkload: opts.quick ? 5 : 20,
        });
    for (const [name, t] of traces) {
      const per = Object.entries(t.perOperation).map(([g, c]) => `${g} ${c.subgraphRequests.toFixed(1)} req / ${c.representations.toFixed(1)} repr`);
      say(
        `  ${name}: ${per.join(', ')}; same answers: apollo ${t.sameAnswers.apollo}, hive ${t.sameAnswers.hive}${t.errors.length ? `; ERRORS: ${t.errors.join('; ')}` : ''}`,
      );
      for (const d of t.differences) say(`    differs: ${d}`);
      if (opts.traceOnly)
        for (const [g, b] of Object.entries(t.bySubgraph))
          say(
            `    ${g}: ${Object.entries(b)
              .map(([s, x]) => `${s} ${x.requests.toFixed(1)}/${x.representations.toFixed(1)}`)
              .join(', ')}`,
          );
    }
    if (opts.traceOnly) return;
    const credentials = createServiceCredentials('gateway', TEST_SERVICE_SECRET);
    // One fetch of a workload's plan replayed at its subgraph (or, with the recorded traces, at its recorded subgraph).
    const floorCellOf =
      (of: Map<string, WorkloadTrace>) =>
      async (w: Workload, key: string, connections: number, durationSeconds: number): Promise<FloorCell> => {
        const fetch = of.get(w.name)!.fetches.get(key)!;
        const token = await credentials.token();
        const r = await runCell({
          url: fetch.url,
          connections,
          durationSeconds,
          headers: { [SERVICE_TOKEN_HEADER]: token },
          next: () => {
            const s = pick(fetch.samples);
            return { body: s.body, headers: { authorization: s.authorization } };
          },
        });
        return { workload: w.name, fetch: key, subgraph: fetch.subgraph, connections, ...r };
      };
    const floorCell = floorCellOf(traces);
    let sameOperation: SameOperationCell[] | undefined;
    let hungSubgraph: HungResults | undefined;
    let tracing: { cells: TracingCell[]; exportedBytes: number } | undefined;
    let overhead: OverheadResults | undefined;
    let deferEntityFetches: DeferCell[] | undefined;
    const extras = async () => {
      const wanted = only ?? ['same-operation', 'hung'];
      if (wanted.includes('overhead')) {
        // What the overhead cells need: the floors (at the subgraphs the gateway is on) and the subgraph processes, for their schedulers' account.
        const overheadContext = (floorCell: ReturnType<typeof floorCellOf>, subgraphs: Proc[]) => ({
          say,
          show,
          durationSeconds: opts.durationSeconds,
          floorCell,
          serviceToken: () => credentials.token(),
          subgraphPids: subgraphs.map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined),
        });
        const compared = [{ name: 'ours', proc: gateways.ours }];
        const withBaseline = Boolean(opts.baseline || opts.baselineEnv);
        const startBaseline = async (name: string, subgraphEnv: NodeJS.ProcessEnv = {}) => {
          const dir = opts.baseline ?? ROOT;
          const baseline = spawnService({
            name,
            entry: join(dir, 'gateway/src/index.ts'),
            portVariable: 'GATEWAY_PORT',
            path: '/graphql',
            cwd: dir,
            env: { ...gatewayEnv, ...subgraphEnv, ...opts.baselineEnv },
          });
          procs.push(baseline);
          await waitUntil(baseline, graphqlProbe(baseline));
          return baseline;
        };
        if (withBaseline) {
          const described = Object.entries(opts.baselineEnv ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(' ');
          say(`overhead: also the gateway of ${opts.baseline ?? ROOT}${described ? ` with ${described}` : ''} (baseline), on the same subgraphs`);
          compared.push({ name: 'baseline', proc: await startBaseline('baseline') });
        }
        say(`overhead: 1 connection, ${opts.durationSeconds} s per cell, against each fetch replayed at its subgraph, ${opts.rounds} round(s)`);
        overhead = {
          ...(await overheadWorkload(overheadContext(floorCell, subgraphProcs), compared, workloads, traces, opts.rounds)),
          baseline:
            [
              opts.baseline ?? (opts.baselineEnv ? 'this checkout' : undefined),
              opts.baselineEnv &&
                Object.entries(opts.baselineEnv)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(' '),
            ]
              .filter(Boolean)
              .join(' with ') || undefined,
        };
        // The same cells again with each subgraph replaced by its recording (bench/recorded-subgraph.ts):
        // answers from memory, next to no CPU, so the two cores are the gateway's and the overhead is its own.
        say(`overhead on recorded subgraphs: each subgraph replaced by a process that answers from memory what the real one answered`);
        const recorders = SUBGRAPHS.map((s) =>
          spawnService({
            name: `${s} (recorded)`,
            entry: join(ROOT, 'bench/recorded-subgraph.ts'),
            portVariable: 'RECORDED_PORT',
            path: '/graphql',
            cwd: ROOT,
            env: { PATH: process.env.PATH, NODE_ENV: 'production', RECORDED_UPSTREAM: urls[s] },
          }),
        );
        procs.push(...recorders);
        await Promise.all(recorders.map((p) => p.listening));
        const recordedUrls = Object.fromEntries(SUBGRAPHS.map((s, i) => [s, recorders[i].url])) as Record<SubgraphName, string>;
        const recordedEnv = Object.fromEntries(SUBGRAPHS.map((s) => [urlVariable(s), recordedUrls[s]]));
        const recordedTraces = onRecordedSubgraphs(traces, recordedUrls);
        const onRecorded = [{ name: 'ours', proc: await startGateway('ours', 'ours (recorded)', [], recordedEnv) }];
        if (withBaseline) onRecorded.push({ name: 'baseline', proc: await startBaseline('baseline (recorded)', recordedEnv) });
        if (opts.peers) {
          // The peers take their subgraph URLs from the supergraph: one composed with the recordings' URLs.
          const recordedSupergraph = join(scratch, 'supergraph-recorded.graphql');
          await writeSupergraph(ROOT, recordedUrls, recordedSupergraph);
          for (const peer of ['apollo', 'hive'] as const) {
            say(`overhead on recorded subgraphs: also ${GATEWAY_LABELS[peer]} (${peer})`);
            onRecorded.push({ name: peer, proc: await startGateway(peer, `${peer} (recorded)`, [], { SUPERGRAPH_PATH: recordedSupergraph }) });
          }
        }
        overhead.recorded = await recordedOverhead(
          overheadContext(floorCellOf(recordedTraces), recorders),
          onRecorded,
          recorders,
          workloads,
          recordedTraces,
          opts.rounds,
        );
        await Promise.all(onRecorded.map((g) => g.proc.stop()));
        if (opts.profile) {
          // Where the gateway's CPU per request goes at 1 connection: a gateway of its own, profiled over its
          // inspector (a loopback port of the kernel's choosing) while each workload runs, start-up left out.
          say(`overhead: profiling our gateway (V8 CPU profiler) at 1 connection, ${opts.durationSeconds} s per workload...`);
          let found!: (url: string) => void;
          const inspectorUrl = new Promise<string>((r) => (found = r));
          const profiled = spawnService({
            name: 'ours (profiled)',
            entry: ENTRIES.ours,
            portVariable: 'GATEWAY_PORT',
            path: '/graphql',
            cwd: ROOT,
            nodeArgs: ['--inspect=127.0.0.1:0'],
            // On the recorded subgraphs: the profile is then of the gateway's work alone, not of its waits for a core.
            env: { ...gatewayEnv, ...recordedEnv },
            onLine: (line) => {
              const m = INSPECTOR_LINE.exec(line);
              if (m) found(m[1]);
            },
          });
          procs.push(profiled);
          await waitUntil(profiled, graphqlProbe(profiled));
          const inspector = await Inspector.connect(await inspectorUrl);
          const dir = join(scratch, 'cpu-prof-overhead');
          await mkdir(dir, { recursive: true });
          const outDir = resolve(ROOT, opts.out);
          await mkdir(outDir, { recursive: true });
          overhead.profiles = [];
          for (const w of workloads) {
            const next = () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } });
            await runCell({ url: profiled.url, connections: 1, durationSeconds: 1, next });
            await inspector.startProfile();
            const cell = await runCell({ url: profiled.url, connections: 1, durationSeconds: opts.durationSeconds, next });
            const slug = w.name.replace(/\W+/g, '-').replace(/^-|-$/g, '');
            await rm(dir, { recursive: true, force: true });
            await mkdir(dir, { recursive: true });
            await inspector.stopProfile(join(dir, `${slug}.cpuprofile`));
            show(`${w.name} · ours (profiled)`, cell);
            const top = await topSelfTime(dir, ROOT, 30);
            if (!top) continue;
            const file = join(outDir, `${stamp(startedAt)}-overhead-${slug}.cpuprofile`);
            await copyFile(top.file, file);
            overhead.profiles.push({
              workload: w.name,
              requests: cell.requests,
              ...top,
              byPackage: (await selfTimeByPackage(top.file, ROOT)).slice(0, 15),
              byLayer: await cpuByLayer(top.file),
              file,
            });
          }
          inspector.close();
          await profiled.stop();
        }
        await Promise.all(recorders.map((p) => p.stop()));
      }
      if (wanted.includes('tracing')) {
        say('tracing: a second platform (five subgraphs and a gateway) with OTEL_EXPORTER_OTLP_ENDPOINT set, on the same data...');
        const receiver = await droppingReceiver();
        const telemetry = tracingEnv(receiver.endpoint);
        const traced = await startSubgraphs(' (traced)', { ...baseEnv, ...telemetry }, (s) => ({
          ...data!.envFor(s),
          ...(tracedDataDir ? { DATA_DIR: tracedDataDir } : {}),
        }));
        const tracedGateway = await startGateway('ours', 'ours (traced)', [], { ...telemetry, ...traced.urlEnv });
        tracing = await tracingWorkload(
          extraContext,
          { off: gateways.ours, on: tracedGateway },
          { off: [...subgraphProcs, gateways.ours], on: [...traced.procs, tracedGateway] },
          workloads.slice(0, 2),
          opts.rounds,
          receiver,
        );
        await Promise.all([tracedGateway, ...traced.procs].map((p) => p.stop()));
        await receiver.close();
      }
      if (wanted.includes('defer')) {
        say(
          `deferred entity fetches: GATEWAY_DEFER_ENTITY_FETCHES on against a second gateway with it off, dashboards at ${opts.connections} and 1 connection, ${opts.durationSeconds} s per cell, ${opts.rounds} round(s)`,
        );
        deferEntityFetches = await deferWorkload(extraContext, gateways.ours, subgraphProcs, workloads.slice(0, 2), opts.rounds);
      }
      if (wanted.includes('same-operation')) {
        say(`same operation, many clients: ${opts.connections} connections as ONE user each, SUBGRAPH_DEDUPLICATION on against off`);
        sameOperation = await sameOperationWorkload(extraContext, gateways.ours, workloads.slice(0, 2), opts.rounds);
      }
      if (wanted.includes('hung')) {
        say('hung subgraph: progress replaced by a socket that accepts and never answers, against the same dashboards with progress healthy');
        hungSubgraph = await hungSubgraphWorkload(extraContext, gateways.ours, workloads);
      }
    };
    if (only) {
      await extras();
      const results = {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        environment: await environment(ROOT),
        settings: { ...opts, storage: databaseUrl ? 'postgres' : 'pglite' },
        sameOperation,
        hungSubgraph,
        tracing,
        overhead,
        deferEntityFetches,
      };
      const outDir = resolve(ROOT, opts.out);
      await mkdir(outDir, { recursive: true });
      const base = join(outDir, `${stamp(startedAt)}-${only.join('-')}`);
      await writeFile(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
      const md = extraReport(results);
      await writeFile(`${base}.md`, md);
      console.log('\n' + md);
      say(`wrote ${base}.json and .md`);
      return;
    }

    const gatewayCell = async (g: GatewayName, proc: Proc, w: Workload, connections: number, durationSeconds: number, rate?: number): Promise<GatewayCell> => {
      const body = requestBody(w);
      const before = await readSubgraphCounters(ports);
      const cpu0 = await cpuSeconds(proc.child.pid);
      const tally = new ErrorTally();
      const r = await runCell({
        url: proc.url,
        connections,
        durationSeconds,
        rate,
        next: () => ({ body, headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
        onError: (answer) => tally.add(answer, 0),
      });
      const cpu1 = await cpuSeconds(proc.child.pid);
      const d = diffCounters(before, await readSubgraphCounters(ports));
      const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
      const sent = r.requests + r.non2xx;
      return {
        gateway: g,
        workload: w.name,
        connections,
        rate,
        ...r,
        cpuMsPerRequest: cpu0 !== undefined && cpu1 !== undefined && sent ? ((cpu1 - cpu0) * 1000) / sent : undefined,
        sqlPerOp: sent ? total(d.statements) / sent : 0,
        sqlBySubgraph: Object.fromEntries(Object.entries(d.statements).map(([s, n]) => [s, n / (sent || 1)])),
        ...(tally.total ? { errorKinds: tally.kinds() } : {}),
      };
    };
    say('warming up (plans, JIT, connection pools)...');
    for (const w of workloads)
      for (const g of opts.gateways)
        await runCell({
          url: gateways[g].url,
          connections: opts.connections,
          durationSeconds: opts.quick ? 1 : 3,
          next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
        });

    const cells: GatewayCell[] = [];
    const lowLoad: GatewayCell[] = [];
    const floor: FloorCell[] = [];
    const sweep: GatewayCell[] = [];
    const rotate = <T>(xs: T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]);

    say(`side by side: ${opts.connections} connections, ${opts.durationSeconds} s per cell, ${opts.rounds} round(s), gateways in rotated order`);
    for (let round = 0; round < opts.rounds; round++) {
      for (const [wi, w] of workloads.entries()) {
        for (const g of rotate(opts.gateways, wi + round)) {
          const c = await gatewayCell(g, gateways[g], w, opts.connections, opts.durationSeconds);
          cells.push({ ...c, round });
          show(`${w.name} · ${g}`, c);
        }
      }
    }

    await extras();

    const lowSeconds = Math.max(1, Math.round(opts.durationSeconds / 2));
    say(`low load: 1 connection, ${lowSeconds} s per cell`);
    for (const [wi, w] of workloads.entries()) {
      for (const g of rotate(opts.gateways, wi)) {
        const c = await gatewayCell(g, gateways[g], w, 1, lowSeconds);
        lowLoad.push(c);
        show(`${w.name} · ${g} · 1 conn`, c);
      }
    }

    if (opts.floor) {
      say('floor: each subgraph fetch of our gateway replayed straight at its subgraph');
      for (const w of workloads) {
        for (const key of traces.get(w.name)!.fetches.keys()) {
          for (const connections of [1, opts.connections]) {
            const c = await floorCell(w, key, connections, lowSeconds);
            floor.push(c);
            show(`${key} · ${connections} conn`, c);
          }
        }
      }
    }

    // The fetches replayed in the plan's shape: parallel ones compete for the cores, as behind a gateway.
    const replayMs = new Map<string, number>();
    if (opts.floor) {
      const token = await credentials.token();
      for (const w of workloads) {
        const t = traces.get(w.name)!;
        const latencies = (await replayPlan(t.plan, t, token, lowSeconds)).sort((a, b) => a - b);
        replayMs.set(w.name, latencies[Math.max(0, Math.ceil(latencies.length / 2) - 1)]);
        say(`  ${w.name}: plan replayed at its subgraphs, p50 ${replayMs.get(w.name)!.toFixed(2)} ms over ${latencies.length}`);
      }
    }

    // Latency against offered load, one dashboard, the three gateways at the same rates.
    const sweepWorkload = workloads[0];
    const peak = Math.max(...cells.filter((c) => c.gateway === 'ours' && c.workload === sweepWorkload.name).map((c) => c.rps));
    const rates = opts.rates ?? (opts.quick ? [0.3, 0.7] : [0.15, 0.35, 0.6, 0.85]).map((f) => Math.max(1, Math.round(f * peak)));
    say(`latency against offered load (${sweepWorkload.name}): ${rates.join(', ')} req/s`);
    for (const [ri, rate] of rates.entries()) {
      for (const g of rotate(opts.gateways, ri)) {
        const c = await gatewayCell(g, gateways[g], sweepWorkload, Math.max(opts.connections, Math.ceil(rate / 20)), lowSeconds, rate);
        sweep.push(c);
        show(`${sweepWorkload.name} · ${g} · ${rate} req/s offered`, c);
      }
    }

    let profile: BenchResults['profile'];
    if (opts.profile) {
      say(`profiling our gateway (--cpu-prof) under ${sweepWorkload.name} and ${workloads[1].name}...`);
      const dir = join(scratch, 'cpu-prof');
      const profiled = await startGateway('ours', 'ours (profiled)', ['--cpu-prof', '--cpu-prof-dir', dir]);
      for (const w of workloads.slice(0, 2)) {
        await runCell({
          url: profiled.url,
          connections: opts.connections,
          durationSeconds: 2,
          next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
        });
        show(`${w.name} · ours (profiled)`, await gatewayCell('ours', profiled, w, opts.connections, opts.durationSeconds));
      }
      await profiled.stop();
      const top = await topSelfTime(dir, ROOT, 30);
      if (top) {
        profile = { ...top, byPackage: (await selfTimeByPackage(top.file, ROOT)).slice(0, 15) };
        const outDir = resolve(ROOT, opts.out);
        await mkdir(outDir, { recursive: true });
        profile.file = join(outDir, `${stamp(startedAt)}-ours.cpuprofile`);
        await copyFile(top.file, profile.file);
      }
    }

    const results: BenchResults = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      environment: await environment(ROOT),
      settings: {
        ...opts,
        lowLoadSeconds: lowSeconds,
        storage: databaseUrl ? 'postgres' : 'pglite',
        data: {
          users: gym.users.length,
          bookings: gym.bookings.length,
          bodyMetrics: gym.bodyMetrics.length,
          notifications: gym.notifications.length,
          programs: gym.programs.length,
        },
        processes: 'each subgraph and each gateway its own node process (tsx loader), NODE_ENV=production, LOG_LEVEL=warn',
      },
      workloads: workloads.map((w) => {
        const t = traces.get(w.name)!;
        const floorLow = floor.filter((f) => f.workload === w.name && f.connections === 1);
        return {
          name: w.name,
          users: w.tokens.length,
          perOperation: t.perOperation,
          bySubgraph: t.bySubgraph,
          sameAnswers: t.sameAnswers,
          differences: t.differences,
          errors: t.errors,
          criticalPathMs: criticalPath(t.plan, (op) => floorLow.find((f) => f.fetch === op)?.p50),
          replayMs: replayMs.get(w.name),
        };
      }),
      cells,
      lowLoad,
      floor,
      sweep: { workload: sweepWorkload.name, rates, cells: sweep },
      profile,
      sameOperation,
      hungSubgraph,
    };
    const outDir = resolve(ROOT, opts.out);
    await mkdir(outDir, { recursive: true });
    const base = join(outDir, stamp(startedAt));
    await writeFile(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
    await writeFile(
      `${base}.svg`,
      latencyChart(
        `${sweepWorkload.name}: latency against offered load (${opts.connections}+ connections, ${lowSeconds} s per point)`,
        opts.gateways.map((g) => ({
          name: GATEWAY_LABELS[g],
          color: { ours: '#1f77b4', apollo: '#d62728', hive: '#2ca02c' }[g],
          points: sweep.filter((c) => c.gateway === g).map((c) => ({ rate: c.rate!, p50: c.p50, p99: c.p99, achieved: c.rps })),
        })),
      ),
    );
    const md = markdownReport(results, `${stamp(startedAt)}.svg`);
    await writeFile(`${base}.md`, md);
    console.log('\n' + md);
    say(`wrote ${base}.json, .md and .svg`);
  } finally {
    await cleanup();
  }
}

const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(':', '-');

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
