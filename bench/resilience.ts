// Two workloads of npm run bench beside the dashboards: many clients of one user sending
// the same operation (inflight deduplication on and off), and a dashboard with one
// subgraph hung (a socket that accepts and never answers) once its breaker is open.
import { createServer, type Server, type Socket } from 'node:net';
import { diffCounters, readMetrics, readSubgraphCounters, sumOf, cpuSeconds } from './counters.js';
import { runCell, type CellResult } from './load.js';
import type { Proc } from './processes.js';
import { requestBody, type Workload } from './workloads.js';

export interface SameOperationCell extends CellResult {
  gateway: 'deduplication on' | 'deduplication off';
  workload: string;
  connections: number;
  /** Requests the subgraphs answered on `/graphql`, per operation the gateway answered. */
  subgraphRequestsPerOp: number;
  /** Subgraph fetches the gateway shared instead of sending, per operation. */
  deduplicatedPerOp: number;
  cpuMsPerRequest?: number;
}

export interface HungCell extends CellResult {
  progress: 'healthy' | 'hung, breaker open';
  workload: string;
  connections: number;
  max: number;
  /** Answers slower than one second (a probe that waited the subgraph deadline). */
  slowerThan1s: number;
  /** The breaker's state at the end of the cell (0 closed, 1 half-open, 2 open). */
  breakerStateAfter?: number;
}

export interface HungResults {
  /** How long the first dashboards took, until the breaker opened. */
  opening: { dashboards: number; seconds: number; slowestMs: number };
  cells: HungCell[];
}

interface Context {
  ports: Record<string, number>;
  say(msg: string): void;
  show(label: string, r: CellResult): void;
  startGateway(name: string, env: NodeJS.ProcessEnv): Promise<Proc>;
  durationSeconds: number;
  connections: number;
}

const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);

/**
 * The subgraphs' counters once nothing is in flight any more: a cell's last operations
 * (and a warm-up's) go on fetching after the load generator stops, and would be counted
 * in the next cell. Reads until two reads 300 ms apart agree (at most 15 s).
 */
async function settledCounters(ports: Record<string, number>) {
  let last = await readSubgraphCounters(ports);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await readSubgraphCounters(ports);
    if (total(now.requests) === total(last.requests)) return now;
    last = now;
  }
  return last;
}

/**
 * N connections, all as ONE user, sending the same operation back to back: the screen a
 * thousand devices of one account (a gym's lobby display, a team account) open at once.
 * Our gateway with SUBGRAPH_DEDUPLICATION on (the running one) and off (started here), in
 * alternating order, each cell counted at the subgraphs.
 */
export async function sameOperationWorkload(ctx: Context, dedupOn: Proc, workloads: Workload[], rounds: number): Promise<SameOperationCell[]> {
  const dedupOff = await ctx.startGateway('ours (deduplication off)', { SUBGRAPH_DEDUPLICATION: 'off' });
  const cells: SameOperationCell[] = [];
  try {
    for (const w of workloads) {
      const body = requestBody(w);
      const headers = { authorization: `Bearer ${w.tokens[0]}` };
      for (const proc of [dedupOn, dedupOff])
        await runCell({ url: proc.url, connections: ctx.connections, durationSeconds: 2, next: () => ({ body, headers }) });
      for (let round = 0; round < rounds; round++) {
        const order = (round + cells.length / 2) % 2 === 0 ? [dedupOn, dedupOff] : [dedupOff, dedupOn];
        for (const proc of order) {
          const label = proc === dedupOn ? 'deduplication on' : 'deduplication off';
          const before = await settledCounters(ctx.ports);
          const dedupBefore = sumOf(await readMetrics(proc.port), 'fitsync_gateway_subgraph_requests_deduplicated_total');
          const cpu0 = await cpuSeconds(proc.child.pid);
          const r = await runCell({ url: proc.url, connections: ctx.connections, durationSeconds: ctx.durationSeconds, next: () => ({ body, headers }) });
          const cpu1 = await cpuSeconds(proc.child.pid);
          const d = diffCounters(before, await settledCounters(ctx.ports));
          const deduplicated = sumOf(await readMetrics(proc.port), 'fitsync_gateway_subgraph_requests_deduplicated_total') - dedupBefore;
          const sent = r.requests + r.non2xx || 1;
          const cell: SameOperationCell = {
            gateway: label,
            workload: w.name,
            connections: ctx.connections,
            ...r,
            subgraphRequestsPerOp: total(d.requests) / sent,
            deduplicatedPerOp: deduplicated / sent,
            cpuMsPerRequest: cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / sent : undefined,
          };
          cells.push(cell);
          ctx.show(`${w.name} · one user × ${ctx.connections} · ${label}`, r);
          ctx.say(`    ${cell.subgraphRequestsPerOp.toFixed(2)} subgraph requests/op, ${cell.deduplicatedPerOp.toFixed(2)} shared/op`);
        }
      }
    }
  } finally {
    await dedupOff.stop();
  }
  return cells;
}

/** A TCP server that accepts every connection and never answers: a hung process, as the kernel sees it. */
export async function hungServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const breakerState = async (proc: Proc, subgraph: string) => {
  const text = await readMetrics(proc.port);
  const line = text.split('\n').find((l) => l.startsWith('fitsync_gateway_breaker_state{') && l.includes(`subgraph="${subgraph}"`));
  return line ? Number(line.split(/\s+/).pop()) : undefined;
};

/**
 * The same dashboards through our gateway with every subgraph healthy, and through a
 * second one of ours whose PROGRESS_URL is a socket that never answers, once its breaker
 * for progress has opened (default deadlines and cool-down: a probe every
 * BREAKER_COOLDOWN_MS waits the deadline, and is counted in the cell).
 */
export async function hungSubgraphWorkload(ctx: Context, healthy: Proc, workloads: Workload[]): Promise<HungResults> {
  const hung = await hungServer();
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
  try {
    const degraded = await ctx.startGateway('ours (progress hung)', { PROGRESS_URL: hung.url });
    try {
      const dashboard = workloads.find((w) => w.name === 'ClientDashboard') ?? workloads[0];
      ctx.say(`  opening the breaker: ${dashboard.name} through the gateway whose progress never answers...`);
      const started = performance.now();
      let dashboards = 0;
      let slowestMs = 0;
      while ((await breakerState(degraded, 'progress')) !== 2) {
        if (performance.now() - started > 120_000) throw new Error('the progress breaker did not open within 120 s');
        const batch = await Promise.all(
          Array.from({ length: ctx.connections }, async () => {
            const t0 = performance.now();
            await fetch(degraded.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${pick(dashboard.tokens)}` },
              body: requestBody(dashboard),
            }).then((r) => r.text());
            return performance.now() - t0;
          }),
        );
        dashboards += batch.length;
        slowestMs = Math.max(slowestMs, ...batch);
      }
      const opening = { dashboards, seconds: (performance.now() - started) / 1000, slowestMs };
      ctx.say(`  breaker open after ${dashboards} dashboards in ${opening.seconds.toFixed(1)} s (slowest ${slowestMs.toFixed(0)} ms)`);

      const cells: HungCell[] = [];
      for (const [wi, w] of workloads.entries()) {
        const targets = wi % 2 === 0 ? [healthy, degraded] : [degraded, healthy];
        for (const proc of targets) {
          const latencies: number[] = [];
          const r = await runCell({
            url: proc.url,
            connections: ctx.connections,
            durationSeconds: ctx.durationSeconds,
            next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
            onLatency: (ms) => latencies.push(ms),
          });
          const label = proc === healthy ? 'healthy' : 'hung, breaker open';
          cells.push({
            progress: label,
            workload: w.name,
            connections: ctx.connections,
            ...r,
            max: latencies.length ? Math.max(...latencies) : NaN,
            slowerThan1s: latencies.filter((ms) => ms > 1000).length,
            breakerStateAfter: proc === degraded ? await breakerState(degraded, 'progress') : undefined,
          });
          ctx.show(`${w.name} · progress ${label}`, r);
        }
      }
      return { opening, cells };
    } finally {
      await degraded.stop();
    }
  } finally {
    await hung.close();
  }
}
