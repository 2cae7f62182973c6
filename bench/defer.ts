// npm run bench -- --only defer: the plan rewrite of GATEWAY_DEFER_ENTITY_FETCHES on (our
// gateway as it runs) against a second gateway process of the same checkout with it off, on
// the same subgraphs. The dashboards at --connections and at 1 connection, on and off cells
// alternating (order rotated), --rounds times: fewer subgraph requests per dashboard against a
// fetch that may now wait for a later stage, in throughput, latency and CPU, measured in the
// same minutes.
import { cpuSeconds, readMetrics, sumOf } from './counters.js';
import { runCell, type CellResult } from './load.js';
import type { Proc } from './processes.js';
import { avg, cellColumns, f, ratio } from './table.js';
import { requestBody, type Workload } from './workloads.js';

export interface DeferCell extends CellResult {
  defer: 'on' | 'off';
  workload: string;
  connections: number;
  round: number;
  /**
   * Requests the gateway sent to subgraphs (its fetch histogram, read once the gateway is idle
   * again) per operation sent to it, those still in flight when the cell ended included: every
   * operation started in the cell is counted on both sides.
   */
  subgraphRequestsPerOp?: number;
  /** Subgraph fetches the gateway shared with an identical one in flight instead of sending, per operation. */
  deduplicatedPerOp?: number;
  /** CPU time of the gateway process per operation answered (user + system, /proc). */
  cpuMsPerRequest?: number;
  /** CPU time of the five subgraph processes per operation answered: the work the merged requests save. */
  subgraphCpuMsPerRequest?: number;
}

interface Context {
  say(msg: string): void;
  show(label: string, r: CellResult): void;
  startGateway(name: string, env: NodeJS.ProcessEnv): Promise<Proc>;
  durationSeconds: number;
  connections: number;
}

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

/** The gateway's subgraph requests so far (count of fitsync_gateway_subgraph_request_duration_seconds) and fetches it shared. */
async function gatewayFetches(proc: Proc): Promise<{ sent: number; shared: number }> {
  const text = await readMetrics(proc.port);
  return {
    sent: sumOf(text, 'fitsync_gateway_subgraph_request_duration_seconds_count'),
    shared: sumOf(text, 'fitsync_gateway_subgraph_requests_deduplicated_total'),
  };
}

/**
 * The gateway's counters once it has nothing in flight: the load generator stops with
 * operations still fetching, which would otherwise fall into the next cell. Reads until two
 * reads 300 ms apart agree (at most 15 s).
 */
async function settledFetches(proc: Proc) {
  let last = await gatewayFetches(proc);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await gatewayFetches(proc);
    if (now.sent === last.sent) return now;
    last = now;
  }
  return last;
}

const cpuOf = async (procs: Proc[]) => {
  const each = await Promise.all(procs.map((p) => cpuSeconds(p.child.pid)));
  return each.every((c) => c !== undefined) ? each.reduce((a, c) => a + c, 0) : undefined;
};

/**
 * `on`: our running gateway (GATEWAY_DEFER_ENTITY_FETCHES unset, so on); a second one is
 * started here with it off. Each round runs every dashboard at `ctx.connections` and at 1
 * connection through both, the order of on and off swapped from cell pair to cell pair and
 * from round to round.
 */
export async function deferWorkload(ctx: Context, on: Proc, subgraphs: Proc[], workloads: Workload[], rounds: number): Promise<DeferCell[]> {
  const off = await ctx.startGateway('ours (defer off)', { GATEWAY_DEFER_ENTITY_FETCHES: 'off' });
  const gateways = { on, off };
  const cells: DeferCell[] = [];
  const levels = [...new Set([ctx.connections, 1])];
  try {
    ctx.say('  warming up both gateways (plans, JIT, connection pools)...');
    for (const w of workloads)
      for (const proc of [on, off])
        await runCell({
          url: proc.url,
          connections: ctx.connections,
          durationSeconds: 3,
          next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
        });
    for (const proc of [on, off]) await settledFetches(proc);
    let pair = 0;
    for (let round = 0; round < rounds; round++) {
      for (const connections of levels) {
        for (const w of workloads) {
          const order: ('on' | 'off')[] = (pair + round) % 2 ? ['off', 'on'] : ['on', 'off'];
          pair++;
          for (const defer of order) {
            const proc = gateways[defer];
            const body = requestBody(w);
            const f0 = await gatewayFetches(proc);
            const cpu0 = await cpuSeconds(proc.child.pid);
            const sub0 = await cpuOf(subgraphs);
            const r = await runCell({
              url: proc.url,
              connections,
              durationSeconds: ctx.durationSeconds,
              next: () => ({ body, headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
            });
            const cpu1 = await cpuSeconds(proc.child.pid);
            const sub1 = await cpuOf(subgraphs);
            // The operations still in flight when the load stopped finish here: their fetches are this
            // cell's, and autocannon's count of requests sent includes them.
            const f1 = await settledFetches(proc);
            const answered = r.requests + r.non2xx;
            const started = r.sent ?? answered;
            const cell: DeferCell = {
              defer,
              workload: w.name,
              connections,
              round,
              ...r,
              subgraphRequestsPerOp: started ? (f1.sent - f0.sent) / started : undefined,
              deduplicatedPerOp: started ? (f1.shared - f0.shared) / started : undefined,
              cpuMsPerRequest: cpu0 !== undefined && cpu1 !== undefined && answered ? ((cpu1 - cpu0) * 1000) / answered : undefined,
              subgraphCpuMsPerRequest: sub0 !== undefined && sub1 !== undefined && answered ? ((sub1 - sub0) * 1000) / answered : undefined,
            };
            cells.push(cell);
            ctx.show(`${w.name} · ${connections} conn · defer ${defer}`, r);
            ctx.say(
              `    ${cell.subgraphRequestsPerOp?.toFixed(2)} subgraph requests/op (${cell.deduplicatedPerOp?.toFixed(2)} shared), gateway CPU ${cell.cpuMsPerRequest?.toFixed(2)} ms/req, subgraphs ${cell.subgraphCpuMsPerRequest?.toFixed(2)} ms/req`,
            );
          }
        }
      }
    }
  } finally {
    await off.stop();
  }
  return cells;
}

export function deferSection(cells: DeferCell[] | undefined): string[] {
  if (!cells?.length) return [];
  const rounds = new Set(cells.map((c) => c.round)).size;
  const lines = [
    '## Deferred entity fetches on against off',
    '',
    `Our gateway with \`GATEWAY_DEFER_ENTITY_FETCHES\` on (as it runs) and a second gateway process of the same checkout with it \`off\`, on the same subgraphs; on and off cells alternate (order swapped per pair and per round), ${rounds} round(s), ${f(cells[0].seconds, 0)} s per cell, means over rounds. Subgraph requests per operation from the gateway's \`fitsync_gateway_subgraph_request_duration_seconds_count\` (read once it is idle, over the operations sent, in flight at the end included); shared fetches (identical ones in flight, \`SUBGRAPH_DEDUPLICATION\`, on in both) from \`fitsync_gateway_subgraph_requests_deduplicated_total\`; CPU from \`/proc\` (the gateway process, and the five subgraph processes together); ratios are on ÷ off.`,
    '',
    '| workload | connections | defer | req/s | p50 ms | p99 ms | errors | subgraph requests/op | shared fetches/op | gateway CPU ms/req | subgraphs CPU ms/req |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const keys = [...new Set(cells.map((c) => `${c.workload}\u0000${c.connections}`))];
  for (const key of keys) {
    const [w, n] = key.split('\u0000');
    const of = (defer: 'on' | 'off') => cells.filter((c) => c.workload === w && String(c.connections) === n && c.defer === defer);
    for (const defer of ['on', 'off'] as const) {
      const cs = of(defer);
      if (!cs.length) continue;
      lines.push(
        `| ${w} | ${n} | ${defer} | ${[
          ...cellColumns(cs),
          f(
            avg(cs, (c) => c.subgraphCpuMsPerRequest),
            2,
          ),
        ].join(' | ')} |`,
      );
    }
    const [on, off] = [of('on'), of('off')];
    if (on.length && off.length) {
      const r = (k: (c: DeferCell) => number | undefined) => ratio(avg(on, k), avg(off, k));
      lines.push(
        `| ${w} | ${n} | **on ÷ off** | **${r((c) => c.rps)}** | **${r((c) => c.p50)}** | **${r((c) => c.p99)}** | | **${r((c) => c.subgraphRequestsPerOp)}** | | **${r(
          (c) => c.cpuMsPerRequest,
        )}** | **${r((c) => c.subgraphCpuMsPerRequest)}** |`,
      );
    }
  }
  // Each round's on ÷ off, so the reader sees how far the ratios move from round to round.
  lines.push('', 'req/s on ÷ off by round (the spread is the run-to-run noise):', '');
  for (const key of keys) {
    const [w, n] = key.split('\u0000');
    const perRound = [...new Set(cells.map((c) => c.round))].map((round) => {
      const at = (defer: 'on' | 'off') => cells.find((c) => c.workload === w && String(c.connections) === n && c.round === round && c.defer === defer);
      const [on, off] = [at('on'), at('off')];
      return on && off ? ratio(on.rps, off.rps) : '–';
    });
    lines.push(`- ${w}, ${n} connection${n === '1' ? '' : 's'}: ${perRound.join(', ')}`);
  }
  lines.push('');
  return lines;
}
