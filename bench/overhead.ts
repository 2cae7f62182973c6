// npm run bench -- --only overhead: the gateway's own share of a dashboard's latency at low
// load. One connection, back to back: our gateway (and with --baseline DIR the gateway of
// another checkout, e.g. main, on the same subgraphs) against each of its subgraph fetches
// replayed straight at its subgraph, alternating, --rounds times. The critical path of each
// round is computed from that round's floors (1 connection, the requests our gateway sent),
// so the two sides of the difference are measured in the same minutes.
import { Agent, request } from 'node:http';
import { SERVICE_TOKEN_HEADER } from '@fitsync/service-kit';
import { cpuSeconds, readMetrics, schedDelta, schedStat, type SchedStat } from './counters.js';
import { profileSection, type cpuByLayer, type HotFunction } from './profile.js';
import { runCell, type CellResult } from './load.js';
import type { Proc } from './processes.js';
import { criticalPath, type QueryPlanNode, type WorkloadTrace } from './trace.js';
import { requestBody, type Workload } from './workloads.js';
import { f as fixed, median, ratiosByRound } from './table.js';
import { measureWakePenalty, wakeProbeLine, type WakeProbe } from './wake-probe.js';

export interface OverheadCell extends CellResult {
  /** 'ours', or 'baseline' (--baseline). */
  gateway: string;
  workload: string;
  round: number;
  /** CPU time of the gateway process per answer (user + system, /proc). */
  cpuMsPerRequest?: number;
  /** The critical path of the same round's floors (ms). */
  criticalPathMs: number;
  /** p50 of the same round's plan replay (ms): the subgraph requests sent as the plan sends them, no gateway. */
  replayMs: number;
  /** Subgraph requests per operation and their mean duration as the gateway timed them (its fetch histogram). */
  subgraphRequestsPerOp?: number;
  subgraphMsPerRequest?: number;
  /**
   * The scheduler's account of the gateway's main thread (the JavaScript thread), per answer:
   * time on a core, time runnable but waiting for one (the run queue), and how many times it
   * was put on a core. At 1 connection the waits are on the path: an answer arrived, and
   * the thread that will handle it waits for a core the subgraphs hold.
   */
  mainThread?: { runMs: number; waitMs: number; slices: number };
  /** The same wait summed over the subgraphs' main threads, per answer: how contended the cores were. */
  subgraphWaitMs?: number;
}

export interface OverheadFloorCell extends CellResult {
  workload: string;
  fetch: string;
  round: number;
}

export interface ReplayCell {
  workload: string;
  round: number;
  requests: number;
  p50: number;
  p90: number;
}

export interface OverheadResults {
  cells: OverheadCell[];
  floor: OverheadFloorCell[];
  replay: ReplayCell[];
  /** CPU the gateway burns with no request at all (timers, scrapes), ms per second, by gateway. */
  idleCpuMsPerSecond: Record<string, number | undefined>;
  /** The same JS work's CPU time back to back and after a sleep, before and after the cells (wake-probe.ts). */
  wakeProbes?: WakeProbe[];
  baseline?: string;
  /** The same cells with every subgraph replaced by its recording: the gateway's own overhead, the cores its. */
  recorded?: OverheadResults & { served: RecordedCounts };
  /** --profile: our gateway's CPU profile at 1 connection, one per workload (start-up left out). */
  profiles?: {
    workload: string;
    requests: number;
    totalMs: number;
    functions: HotFunction[];
    byPackage: { pkg: string; percent: number }[];
    byLayer?: Awaited<ReturnType<typeof cpuByLayer>>;
    file: string;
  }[];
}

/** What the recorded subgraphs (bench/recorded-subgraph.ts) served during the cells. */
export interface RecordedCounts {
  /** Answers from memory. */
  fromMemory: number;
  /** Requests they had not seen and sent on to the real subgraph (none once warmed up). */
  fetched: number;
}

interface Context {
  say(msg: string): void;
  show(label: string, r: CellResult): void;
  durationSeconds: number;
  floorCell(w: Workload, key: string, connections: number, durationSeconds: number): Promise<CellResult>;
  /** The gateway's service credential, for the replayed requests. */
  serviceToken(): Promise<string>;
  /** The subgraph processes, for their schedulers' account (mainThread). */
  subgraphPids?: number[];
  /** Requests the subgraphs have answered so far (the recordings count them): fetches/op for any gateway, not only ours. */
  subgraphRequests?: () => Promise<number>;
}

/**
 * The plan's subgraph requests (those our gateway sent, captured by the trace) replayed from
 * here in the plan's own shape, back to back for `seconds`: a sequence one after another, a
 * parallel node all at once, each on a keep-alive connection of its own. What the subgraphs
 * take for one dashboard when asked as the gateway asks them, parallel fetches competing for
 * the same cores as they do behind the gateway; the floors alone (one fetch at a time) miss
 * that competition. Latencies of whole replays, ms.
 */
export async function replayPlan(plan: QueryPlanNode | undefined, trace: WorkloadTrace, token: string, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const post = (url: string, body: string, authorization: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization, [SERVICE_TOKEN_HEADER]: token },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`replay: ${url} answered ${res.statusCode}`))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const run = async (node: QueryPlanNode | undefined): Promise<void> => {
    if (!node) return;
    if (node.kind === 'Fetch') {
      const f = trace.fetches.get(node.operationName ?? node.serviceName ?? '');
      if (!f) return; // merged into another fetch of its stage, or skipped: the gateway sent nothing for it
      const s = pick(f.samples);
      return post(f.url, s.body, s.authorization);
    }
    if (node.kind === 'Flatten') return run(node.node);
    if (node.kind === 'Parallel') {
      await Promise.all((node.nodes ?? []).map(run));
      return;
    }
    for (const n of node.nodes ?? []) await run(n);
  };
  const latencies: number[] = [];
  try {
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const t0 = performance.now();
      await run(plan);
      latencies.push(performance.now() - t0);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN;
};

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

/** Count and sum of the gateway's subgraph request histogram; undefined for a gateway without it (the peers serve no /metrics). */
async function fetchHistogram(proc: Proc): Promise<{ count: number; seconds: number } | undefined> {
  const text = await readMetrics(proc.port).catch(() => undefined);
  if (text === undefined) return undefined;
  let count = 0;
  let seconds = 0;
  for (const line of text.split('\n')) {
    const m = /^fitsync_gateway_subgraph_request_duration_seconds_(count|sum)\{[^}]*\}\s+(\S+)/.exec(line);
    if (m) {
      if (m[1] === 'count') count += Number(m[2]);
      else seconds += Number(m[2]);
    }
  }
  return { count, seconds };
}

export async function overheadWorkload(
  ctx: Context,
  gateways: { name: string; proc: Proc }[],
  workloads: Workload[],
  traces: Map<string, WorkloadTrace>,
  rounds: number,
): Promise<OverheadResults> {
  const idleCpuMsPerSecond: Record<string, number | undefined> = {};
  for (const g of gateways) {
    const c0 = await cpuSeconds(g.proc.child.pid);
    await new Promise((r) => setTimeout(r, 3000));
    const c1 = await cpuSeconds(g.proc.child.pid);
    idleCpuMsPerSecond[g.name] = c0 !== undefined && c1 !== undefined ? ((c1 - c0) * 1000) / 3 : undefined;
  }
  ctx.say(
    `  idle gateway CPU: ${Object.entries(idleCpuMsPerSecond)
      .map(([g, ms]) => `${g} ${ms?.toFixed(1)} ms/s`)
      .join(', ')}`,
  );
  const wakeProbes = [await measureWakePenalty('before the cells')];
  ctx.say(`  wake probe, ${wakeProbeLine(wakeProbes[0])}`);
  ctx.say('  warming up at 1 connection...');
  for (const w of workloads)
    for (const g of gateways)
      await runCell({
        url: g.proc.url,
        connections: 1,
        durationSeconds: 2,
        next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
      });

  const cells: OverheadCell[] = [];
  const floor: OverheadFloorCell[] = [];
  const replay: ReplayCell[] = [];
  for (const w of workloads) await replayPlan(traces.get(w.name)!.plan, traces.get(w.name)!, await ctx.serviceToken(), 1);
  const floorSeconds = Math.max(1, Math.round(ctx.durationSeconds / 2));
  for (let round = 0; round < rounds; round++) {
    for (const [wi, w] of workloads.entries()) {
      const trace = traces.get(w.name)!;
      const floors = new Map<string, number>();
      for (const key of trace.fetches.keys()) {
        const r = await ctx.floorCell(w, key, 1, floorSeconds);
        floor.push({ workload: w.name, fetch: key, round, ...r });
        floors.set(key, r.p50);
      }
      const cp = criticalPath(trace.plan, (k) => floors.get(k));
      // The credential of now: a service token lives 5 minutes, a run of several rounds longer.
      const replayed = await replayPlan(trace.plan, trace, await ctx.serviceToken(), floorSeconds);
      const replayCell: ReplayCell = { workload: w.name, round, requests: replayed.length, p50: percentile(replayed, 50), p90: percentile(replayed, 90) };
      replay.push(replayCell);
      ctx.say(
        `  ${w.name} plan replayed at its subgraphs: p50 ${replayCell.p50.toFixed(2)} ms over ${replayed.length} (critical path of the floors ${cp.toFixed(2)} ms)`,
      );
      const order = gateways.map((_, i) => gateways[(i + wi + round) % gateways.length]);
      for (const g of order) {
        const body = requestBody(w);
        const h0 = await fetchHistogram(g.proc);
        const served0 = await ctx.subgraphRequests?.();
        const cpu0 = await cpuSeconds(g.proc.child.pid);
        // The gateway's main thread first, then each subgraph's.
        const readSched = () => Promise.all([g.proc.child.pid, ...(ctx.subgraphPids ?? [])].map(schedStat));
        const sched0 = await readSched();
        const r = await runCell({
          url: g.proc.url,
          connections: 1,
          durationSeconds: ctx.durationSeconds,
          next: () => ({ body, headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
        });
        const cpu1 = await cpuSeconds(g.proc.child.pid);
        const [sched, ...subgraphs] = (await readSched()).map((after, i) => schedDelta(sched0[i], after));
        const h1 = await fetchHistogram(g.proc);
        const served1 = await ctx.subgraphRequests?.();
        const sent = r.requests + r.non2xx;
        const perAnswer = (s: SchedStat) => ({ runMs: s.runNs / 1e6 / sent, waitMs: s.waitNs / 1e6 / sent, slices: s.slices / sent });
        const timed = h0 && h1 ? { count: h1.count - h0.count, seconds: h1.seconds - h0.seconds } : undefined;
        const fetches = served0 !== undefined && served1 !== undefined ? served1 - served0 : timed?.count;
        const cell: OverheadCell = {
          gateway: g.name,
          workload: w.name,
          round,
          ...r,
          cpuMsPerRequest: cpu0 !== undefined && cpu1 !== undefined && sent ? ((cpu1 - cpu0) * 1000) / sent : undefined,
          criticalPathMs: cp,
          replayMs: replayCell.p50,
          subgraphRequestsPerOp: sent && fetches !== undefined ? fetches / sent : undefined,
          subgraphMsPerRequest: timed?.count ? (timed.seconds * 1000) / timed.count : undefined,
          mainThread: sched && sent ? perAnswer(sched) : undefined,
          subgraphWaitMs:
            sent && subgraphs.length && subgraphs.every(Boolean) ? subgraphs.reduce((sum, d) => sum + (d?.waitNs ?? 0), 0) / 1e6 / sent : undefined,
        };
        cells.push(cell);
        ctx.show(`${w.name} · ${g.name} · 1 conn`, r);
        ctx.say(
          `    overhead ${(r.p50 - cp).toFixed(2)} ms over the critical path, ${(r.p50 - replayCell.p50).toFixed(2)} ms over the replay; CPU ${cell.cpuMsPerRequest?.toFixed(2)} ms/req, ${cell.subgraphRequestsPerOp?.toFixed(1)} fetches/op${cell.subgraphMsPerRequest !== undefined ? ` of ${cell.subgraphMsPerRequest.toFixed(2)} ms` : ''}${
            cell.mainThread
              ? `; main thread ${cell.mainThread.runMs.toFixed(2)} ms on a core, ${cell.mainThread.waitMs.toFixed(2)} ms waiting for one, ${cell.mainThread.slices.toFixed(1)} slices/req`
              : ''
          }${cell.subgraphWaitMs !== undefined ? `; subgraphs waited ${cell.subgraphWaitMs.toFixed(2)} ms/req` : ''}`,
        );
      }
    }
  }
  wakeProbes.push(await measureWakePenalty('after the cells'));
  ctx.say(`  wake probe, ${wakeProbeLine(wakeProbes[1])}`);
  return { cells, floor, replay, idleCpuMsPerSecond, wakeProbes };
}

/** The traces with every fetch's URL that of its subgraph's recording. */
export function onRecordedSubgraphs(traces: Map<string, WorkloadTrace>, recorded: Record<string, string>): Map<string, WorkloadTrace> {
  return new Map(
    [...traces].map(([name, t]) => [
      name,
      { ...t, fetches: new Map([...t.fetches].map(([key, fetch]) => [key, { ...fetch, url: recorded[fetch.subgraph] ?? fetch.url }])) },
    ]),
  );
}

async function recordedCounts(recorders: Proc[]): Promise<RecordedCounts> {
  const counts = await Promise.all(
    recorders.map(async (p) => (await (await fetch(`http://127.0.0.1:${p.port}/__recorded`)).json()) as { hits: number; misses: number }),
  );
  return { fromMemory: counts.reduce((n, c) => n + c.hits, 0), fetched: counts.reduce((n, c) => n + c.misses, 0) };
}

/**
 * overheadWorkload on recorded subgraphs. First every request the cells can send is recorded:
 * each workload once per user through each gateway, and each captured subgraph request (the
 * floors' and the replay's) once at its recording, so that during the cells nothing goes on to
 * the real subgraphs (the counts say whether anything did).
 */
export async function recordedOverhead(
  ctx: Context,
  gateways: { name: string; proc: Proc }[],
  recorders: Proc[],
  workloads: Workload[],
  traces: Map<string, WorkloadTrace>,
  rounds: number,
): Promise<OverheadResults & { served: RecordedCounts }> {
  ctx.say('  recording: each workload once per user through each gateway, each captured subgraph request once...');
  for (const g of gateways)
    for (const w of workloads)
      for (const token of w.tokens) {
        const res = await fetch(g.proc.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: requestBody(w),
        });
        const answer = (await res.json()) as { errors?: unknown[] };
        if (!res.ok || answer.errors) throw new Error(`recording ${w.name} through ${g.name}: ${res.status} ${JSON.stringify(answer.errors)}`);
      }
  const token = await ctx.serviceToken();
  for (const t of traces.values())
    for (const fetch_ of t.fetches.values())
      for (const s of fetch_.samples) {
        const res = await fetch(fetch_.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: s.authorization, [SERVICE_TOKEN_HEADER]: token },
          body: s.body,
        });
        if (!res.ok) throw new Error(`recording a ${fetch_.subgraph} request: ${res.status}`);
        await res.arrayBuffer();
      }
  const before = await recordedCounts(recorders);
  ctx.say(`  recorded ${before.fetched} answers`);
  const counted: Context = {
    ...ctx,
    subgraphRequests: async () => {
      const c = await recordedCounts(recorders);
      return c.fromMemory + c.fetched;
    },
  };
  const results = await overheadWorkload(counted, gateways, workloads, traces, rounds);
  const after = await recordedCounts(recorders);
  const served = { fromMemory: after.fromMemory - before.fromMemory, fetched: after.fetched - before.fetched };
  ctx.say(`  recorded subgraphs during the cells: ${served.fromMemory} answers from memory, ${served.fetched} sent on to the real subgraph`);
  return { ...results, served };
}

const f = (n: number | undefined, digits = 2) => fixed(n, digits);

export function overheadSection(r: OverheadResults | undefined, recorded?: RecordedCounts): string[] {
  if (!r?.cells.length) return [];
  const lines = [
    ...(recorded
      ? [
          '## Gateway overhead at low load, on recorded subgraphs',
          '',
          `The same cells with each subgraph replaced by its recording (bench/recorded-subgraph.ts, a process per subgraph that answers from memory each request the real one answered before, keyed by caller and body): the subgraphs' answers cost next to no CPU (their round trips are the floors below), so the two cores are the gateway's, and what is left over the floors and the replay is the gateway's own. During the cells the recordings served ${recorded.fromMemory} answers from memory and sent ${recorded.fetched} on to the real subgraphs. "Subgraphs waiting" below is the recordings' wait for a core.${
            r.cells.some((c) => c.gateway === 'apollo' || c.gateway === 'hive')
              ? " apollo is plain @apollo/gateway and hive is Hive Gateway (--peers), on a supergraph with the recordings' URLs; fetches/op is counted by the recordings for every gateway. The floors, critical path and replay are of our gateway's fetches, not theirs: between gateways, compare CPU per request and p50."
              : ''
          }`,
          '',
        ]
      : ['## Gateway overhead at low load', '']),
    `One connection, back to back, per gateway; each round replays every subgraph fetch of our gateway straight at its subgraph (1 connection, the requests it sent) and takes the critical path of those p50s (sequence summed, parallel max). Overhead = gateway p50 − that round's critical path; medians over rounds. The plan replay sends the same requests from the bench in the plan's shape (sequences in turn, parallel fetches at once, no gateway): unlike the floors, its parallel fetches compete for the cores as they do behind the gateway.${r.baseline ? ` baseline: the gateway of ${r.baseline}, on the same subgraphs.` : ''}`,
    '',
    `Idle gateway CPU (no requests): ${Object.entries(r.idleCpuMsPerSecond)
      .map(([g, ms]) => `${g} ${f(ms, 1)} ms/s`)
      .join(', ')}.`,
    '',
    ...(r.wakeProbes?.length
      ? [
          'Wake-up probe (bench/wake-probe.ts, a process of its own on the idle platform: the CPU time of the same ~0.5 ms of JSON and object work, median, back to back and right after its thread slept; at 1 connection the gateway works between waits of that length):',
          '',
          ...r.wakeProbes.map((p) => `- ${wakeProbeLine(p)}`),
          '',
        ]
      : []),
    '| workload | gateway | rounds | p50 ms | critical path ms | overhead ms | plan replay p50 ms | overhead over replay ms | gateway CPU ms/req | fetches/op | fetch ms (gateway-timed) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // Workloads in the order they ran, gateways in a fixed order within each (the cells ran rotated).
  const gatewayOrder = ['ours', 'baseline', 'apollo', 'hive'];
  const rank = (g: string) => (gatewayOrder.indexOf(g) + gatewayOrder.length + 1) % (gatewayOrder.length + 1);
  const workloadsRun = [...new Set(r.cells.map((c) => c.workload))];
  const keys = workloadsRun.flatMap((w) =>
    [...new Set(r.cells.filter((c) => c.workload === w).map((c) => c.gateway))].sort((a, b) => rank(a) - rank(b)).map((g) => `${w}\u0000${g}`),
  );
  for (const key of keys) {
    const [w, g] = key.split('\u0000');
    const cs = r.cells.filter((c) => c.workload === w && c.gateway === g);
    lines.push(
      `| ${w} | ${g} | ${cs.length} | ${f(median(cs.map((c) => c.p50)))} | ${f(median(cs.map((c) => c.criticalPathMs)))} | ${f(
        median(cs.map((c) => c.p50 - c.criticalPathMs)),
      )} | ${f(median(cs.map((c) => c.replayMs)))} | ${f(median(cs.map((c) => c.p50 - c.replayMs)))} | ${f(median(cs.map((c) => c.cpuMsPerRequest ?? NaN)))} | ${f(median(cs.map((c) => c.subgraphRequestsPerOp ?? NaN)), 1)} | ${f(
        median(cs.map((c) => c.subgraphMsPerRequest ?? NaN)),
      )} |`,
    );
  }
  if (r.cells.some((c) => c.mainThread)) {
    lines.push(
      '',
      "The scheduler's account of the gateway's main thread (the JavaScript thread; `/proc/<pid>/task/<pid>/schedstat`) per answer, medians over rounds: time on a core, time runnable but waiting for a core (at 1 connection on the path: an answer arrived and its handler waits for a core the subgraphs hold), and how many times it was put on a core; then the same wait summed over the subgraphs' main threads:",
      '',
      '| workload | gateway | overhead over replay ms | main thread on a core ms/req | waiting for a core ms/req | slices/req | subgraphs waiting ms/req |',
      '|---|---|---:|---:|---:|---:|---:|',
    );
    for (const key of keys) {
      const [w, g] = key.split('\u0000');
      const cs = r.cells.filter((c) => c.workload === w && c.gateway === g);
      const m = (of: (c: OverheadCell) => number | undefined, digits = 2) => f(median(cs.map((c) => of(c) ?? NaN)), digits);
      lines.push(
        `| ${w} | ${g} | ${m((c) => c.p50 - c.replayMs)} | ${m((c) => c.mainThread?.runMs)} | ${m((c) => c.mainThread?.waitMs)} | ${m((c) => c.mainThread?.slices, 1)} | ${m((c) => c.subgraphWaitMs)} |`,
      );
    }
  }
  const compared = [...new Set(r.cells.map((c) => c.gateway))].filter((g) => g !== 'ours');
  if (compared.length && new Set(r.cells.map((c) => c.round)).size > 1) {
    lines.push('', `By round, ours ÷ ${compared.join(', ')} (cells of a round run back to back; the spread is the run-to-run noise):`, '');
    for (const w of [...new Set(r.cells.map((c) => c.workload))]) {
      const of = (g: string) => r.cells.filter((c) => c.workload === w && c.gateway === g);
      for (const g of compared)
        lines.push(
          `- ${w}: gateway CPU per request ${ratiosByRound(of('ours'), of(g), (c) => c.cpuMsPerRequest)}; p50 ${ratiosByRound(of('ours'), of(g), (c) => c.p50)}${compared.length > 1 ? ` (against ${g})` : ''}`,
        );
    }
  }
  lines.push('', '| workload | fetch | floor p50 ms (median over rounds) |', '|---|---|---:|');
  const fetches = [...new Set(r.floor.map((c) => `${c.workload}\u0000${c.fetch}`))];
  for (const key of fetches) {
    const [w, k] = key.split('\u0000');
    lines.push(`| ${w} | \`${k}\` | ${f(median(r.floor.filter((c) => c.workload === w && c.fetch === k).map((c) => c.p50)))} |`);
  }
  lines.push('');
  if (r.recorded) lines.push(...overheadSection(r.recorded, r.recorded.served));
  for (const p of r.profiles ?? [])
    lines.push(...profileSection(`### Where our gateway spends its CPU at 1 connection: ${p.workload} (--profile, ${p.requests} requests)`, p));
  return lines;
}
