import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { describeKind, type ErrorKind } from './error-answers.js';
import type { CellResult } from './load.js';
import { profileSection, type HotFunction } from './profile.js';
import type { HungResults, SameOperationCell } from './resilience.js';
import { deferSection, type DeferCell } from './defer.js';
import { overheadSection, type OverheadResults } from './overhead.js';
import { avg, cellColumns, f, ratio, ratiosByRound } from './table.js';
import { tracingSection, type TracingCell } from './tracing.js';
import type { GatewayName } from './trace.js';

export interface GatewayCell extends CellResult {
  gateway: GatewayName;
  workload: string;
  connections: number;
  rate?: number;
  round?: number;
  /** CPU time the gateway process used per request sent (user + system). */
  cpuMsPerRequest?: number;
  sqlPerOp: number;
  /** SQL statements per request, by subgraph. */
  sqlBySubgraph: Record<string, number>;
  /** The error answers by kind (what their first error entry says), with a few samples: only when there were any. */
  errorKinds?: ErrorKind[];
}

export interface FloorCell extends CellResult {
  workload: string;
  fetch: string;
  subgraph: string;
  connections: number;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  environment: Awaited<ReturnType<typeof environment>>;
  settings: Record<string, unknown>;
  workloads: {
    name: string;
    users: number;
    perOperation: Record<GatewayName, { subgraphRequests: number; representations: number }>;
    bySubgraph: Record<GatewayName, Record<string, { requests: number; representations: number }>>;
    sameAnswers: Record<string, boolean>;
    differences: string[];
    errors: string[];
    /** Sum over the query plan's sequence of the slowest subgraph fetch p50 at 1 connection. */
    criticalPathMs: number;
    /** p50 of the plan replayed at the subgraphs in its own shape, 1 at a time (bench/overhead.ts replayPlan). */
    replayMs?: number;
  }[];
  cells: GatewayCell[];
  lowLoad: GatewayCell[];
  floor: FloorCell[];
  sweep: { workload: string; rates: number[]; cells: GatewayCell[] };
  profile?: { totalMs: number; functions: HotFunction[]; byPackage: { pkg: string; percent: number }[]; file: string };
  sameOperation?: SameOperationCell[];
  /** `--only tracing`: the dashboards with tracing on against off. */
  tracing?: { cells: TracingCell[]; exportedBytes: number };
  hungSubgraph?: HungResults;
  /** `--only overhead`. */
  overhead?: OverheadResults;
  /** `--only defer`: the dashboards with GATEWAY_DEFER_ENTITY_FETCHES on against off. */
  deferEntityFetches?: DeferCell[];
}

async function versionOf(pkg: string, root: string): Promise<string> {
  try {
    let dir = dirname(createRequire(join(root, 'package.json')).resolve(pkg));
    while (dir !== dirname(dir)) {
      const json = await readFile(join(dir, 'package.json'), 'utf8').then(JSON.parse, () => undefined);
      if (json?.name === pkg) return String(json.version);
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

export async function environment(root: string) {
  const c = cpus();
  const versions: Record<string, string> = { node: process.version };
  for (const pkg of [
    '@apollo/gateway',
    '@apollo/server',
    '@graphql-hive/gateway',
    '@graphql-hive/gateway-runtime',
    'graphql',
    'autocannon',
    '@electric-sql/pglite',
    'pg',
  ]) {
    versions[pkg] = await versionOf(pkg, root);
  }
  return {
    platform: `${platform()} ${release()}`,
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGb: +(totalmem() / 2 ** 30).toFixed(1),
    loadAverageAtEnd: loadavg().map((l) => +l.toFixed(2)),
    versions,
  };
}

const LABEL: Record<GatewayName, string> = { ours: 'FitSync gateway', apollo: '@apollo/gateway (plain)', hive: 'Hive Gateway' };

/** Averages the cells of one gateway and workload over rounds. */
function mean(cells: GatewayCell[]): GatewayCell | undefined {
  if (!cells.length) return undefined;
  const avg = (k: keyof GatewayCell) => cells.reduce((s, c) => s + ((c[k] as number) ?? 0), 0) / cells.length;
  return {
    ...cells[0],
    rps: avg('rps'),
    p50: avg('p50'),
    p90: avg('p90'),
    p99: avg('p99'),
    requests: cells.reduce((s, c) => s + c.requests, 0),
    errors: cells.reduce((s, c) => s + c.errors, 0),
    non2xx: cells.reduce((s, c) => s + c.non2xx, 0),
    graphqlErrors: cells.reduce((s, c) => s + c.graphqlErrors, 0),
    cpuMsPerRequest: cells.every((c) => c.cpuMsPerRequest !== undefined) ? avg('cpuMsPerRequest') : undefined,
    sqlPerOp: avg('sqlPerOp'),
  };
}

export function markdownReport(r: BenchResults, chartFile: string): string {
  const s = r.settings as {
    connections: number;
    durationSeconds: number;
    rounds: number;
    scale: number;
    storage: string;
    lowLoadSeconds: number;
    data: Record<string, number>;
  };
  const gateways = [...new Set(r.cells.map((c) => c.gateway))];
  const lines: string[] = [];
  lines.push(`# Gateway benchmark, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`, '');
  lines.push(`\`${r.command}\``, '');
  lines.push(
    `Machine: ${r.environment.cpus} × ${r.environment.cpuModel}, ${r.environment.memoryGb} GB, ${r.environment.platform}; load average at the end ${r.environment.loadAverageAtEnd.join(' / ')}.`,
    `Versions: ${Object.entries(r.environment.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `Settings: scale ${s.scale} (${Object.entries(s.data)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}) on ${s.storage}; ${s.connections} connections, ${s.durationSeconds} s per cell, ${s.rounds} round(s), gateways in rotated order; low load = 1 connection for ${s.lowLoadSeconds} s.`,
    'Every subgraph and every gateway is its own node process on this machine, as is the load generator (autocannon); ratios are to our gateway in the same run.',
    '',
  );
  for (const w of r.workloads) {
    lines.push(`## ${w.name}`, '');
    lines.push(
      `Random users (${w.users}). Same answers as ours: ${Object.entries(w.sameAnswers)
        .map(([g, ok]) => `${g} ${ok ? 'yes' : '**no**'}`)
        .join(', ')}.${w.errors.length ? ` Errors in our answers: ${w.errors.join('; ')}.` : ''}`,
      '',
    );
    lines.push(
      '| gateway | req/s | p50 ms | p99 ms | errors | req/s vs ours | p50 vs ours | gateway CPU ms/req | subgraph requests/op | representations/op | SQL statements/op |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const ours = mean(r.cells.filter((c) => c.gateway === 'ours' && c.workload === w.name));
    for (const g of gateways) {
      const c = mean(r.cells.filter((x) => x.gateway === g && x.workload === w.name));
      if (!c || !ours) continue;
      const errors = c.errors + c.non2xx + c.graphqlErrors;
      lines.push(
        `| ${LABEL[g]} | ${f(c.rps)} | ${f(c.p50, 2)} | ${f(c.p99, 2)} | ${errors} | ${ratio(c.rps, ours.rps)} | ${ratio(c.p50, ours.p50)} | ${f(c.cpuMsPerRequest, 2)} | ${f(w.perOperation[g]?.subgraphRequests, 1)} | ${f(w.perOperation[g]?.representations, 1)} | ${f(c.sqlPerOp, 2)} |`,
      );
    }
    if (ours && s.rounds > 1) {
      const here = (g: GatewayName) =>
        r.cells.filter((x) => x.gateway === g && x.workload === w.name && x.rate === undefined && x.connections === s.connections);
      const others = gateways.filter((g) => g !== 'ours');
      lines.push(
        '',
        `By round, the peer ÷ ours (the spread is the run-to-run noise): req/s ${others
          .map((g) => `${g} ${ratiosByRound(here(g), here('ours'), (c) => c.rps)}`)
          .join('; ')}; gateway CPU per request ${others.map((g) => `${g} ${ratiosByRound(here(g), here('ours'), (c) => c.cpuMsPerRequest)}`).join('; ')}.`,
        '',
      );
    }
    const withErrors = r.cells.filter((x) => x.workload === w.name && x.errorKinds?.length);
    if (withErrors.length) {
      lines.push('', 'Error answers, by kind (count × status, code, service, path, message of the first error entry):', '');
      for (const x of withErrors)
        for (const k of x.errorKinds!)
          lines.push(`- ${LABEL[x.gateway]}${x.round !== undefined ? `, round ${x.round + 1}` : ''}: ${describeKind(k, { minutes: false }).trim()}`);
      lines.push('');
    }
    const floorHere = r.floor.filter((x) => x.workload === w.name && x.connections === s.connections);
    for (const x of floorHere) {
      lines.push(
        `| floor: \`${x.fetch}\` straight at ${x.subgraph} | ${f(x.rps)} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${x.errors + x.non2xx + x.graphqlErrors} | | | | 1 | | |`,
      );
    }
    lines.push('');
    const low = r.lowLoad.filter((c) => c.workload === w.name);
    if (low.length) {
      lines.push(
        `Low load (1 connection): ${low.map((c) => `${c.gateway} p50 ${f(c.p50, 2)} ms`).join(', ')}; critical path of the subgraph fetches alone (p50 at 1 connection, sequence summed, parallel max) ${f(w.criticalPathMs, 2)} ms, so gateway overhead ${low
          .map((c) => `${c.gateway} ${f(c.p50 - w.criticalPathMs, 2)} ms`)
          .join(', ')}.${
          w.replayMs === undefined
            ? ''
            : ` The plan replayed at the subgraphs in its own shape (parallel fetches at once, competing for the cores as behind a gateway; no gateway) took p50 ${f(w.replayMs, 2)} ms: overhead over it ${low
                .map((c) => `${c.gateway} ${f(c.p50 - w.replayMs!, 2)} ms`)
                .join(', ')}.`
        }`,
        '',
      );
    }
    lines.push(
      `Per operation, traced: ${Object.entries(w.perOperation)
        .map(([g, p]) => `${g} ${f(p.subgraphRequests, 1)} subgraph requests carrying ${f(p.representations, 1)} entity representations`)
        .join('; ')}.`,
      '',
    );
    const bySubgraph = Object.entries(w.bySubgraph ?? {}).map(
      ([g, b]) =>
        `${g}: ${Object.entries(b)
          .map(([s, x]) => `${s} ${f(x.requests, 1)}/${f(x.representations, 1)}`)
          .join(', ')}`,
    );
    if (bySubgraph.length) lines.push(`By subgraph (requests/representations per operation): ${bySubgraph.join('; ')}.`, '');
  }
  lines.push(`## Latency against offered load (${r.sweep.workload})`, '', `![latency against offered load](${chartFile})`, '');
  lines.push('| offered req/s | ' + gateways.map((g) => `${LABEL[g]} achieved · p50 · p99`).join(' | ') + ' |');
  lines.push('|---:|' + gateways.map(() => '---:|').join(''));
  for (const rate of r.sweep.rates) {
    const row = gateways.map((g) => {
      const c = r.sweep.cells.find((x) => x.gateway === g && x.rate === rate);
      return c ? `${f(c.rps)} · ${f(c.p50, 2)} · ${f(c.p99, 2)}` : '–';
    });
    lines.push(`| ${rate} | ${row.join(' | ')} |`);
  }
  lines.push('');
  if (r.profile) lines.push(...profileSection('## Where our gateway spends its CPU', r.profile));
  lines.push(...extraSections(r));
  return lines.join('\n');
}

/** The report of a run with `--only`: the extra workloads alone. */
export function extraReport(
  r: Pick<BenchResults, 'startedAt' | 'command' | 'environment' | 'sameOperation' | 'hungSubgraph' | 'tracing' | 'overhead' | 'deferEntityFetches'>,
): string {
  return [
    `# Gateway benchmark, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`${r.command}\``,
    '',
    `Machine: ${r.environment.cpus} × ${r.environment.cpuModel}, ${r.environment.memoryGb} GB; load average at the end ${r.environment.loadAverageAtEnd.join(' / ')}.`,
    '',
    ...extraSections(r),
    ...tracingSection(r.tracing),
    ...overheadSection(r.overhead),
    ...deferSection(r.deferEntityFetches),
  ].join('\n');
}

function extraSections(r: Pick<BenchResults, 'sameOperation' | 'hungSubgraph'>): string[] {
  const lines: string[] = [];
  const byKey = <T extends { workload: string }>(cells: T[], key: (c: T) => string) => {
    const out = new Map<string, Map<string, T[]>>();
    for (const c of cells) {
      const w = out.get(c.workload) ?? new Map<string, T[]>();
      w.set(key(c), [...(w.get(key(c)) ?? []), c]);
      out.set(c.workload, w);
    }
    return out;
  };
  if (r.sameOperation?.length) {
    const n = r.sameOperation[0].connections;
    lines.push(
      `## Same operation, many clients (${n} connections, one user)`,
      '',
      `Every connection sends the same operation with the same token, back to back. Our gateway with \`SUBGRAPH_DEDUPLICATION\` on and off, alternating; subgraph requests counted at the subgraphs (\`/graphql\` requests answered), shared fetches from \`fitsync_gateway_subgraph_requests_deduplicated_total\`.`,
      '',
      '| workload | deduplication | req/s | p50 ms | p99 ms | errors | subgraph requests/op | shared fetches/op | gateway CPU ms/req |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [w, m] of byKey(r.sameOperation, (c) => c.gateway)) {
      for (const [g, cs] of m) lines.push(`| ${w} | ${g.replace('deduplication ', '')} | ${cellColumns(cs).join(' | ')} |`);
      const on = m.get('deduplication on') ?? [];
      const off = m.get('deduplication off') ?? [];
      if (on.length && off.length)
        lines.push(
          `| ${w} | **on vs off** | **${ratio(
            avg(on, (c) => c.rps),
            avg(off, (c) => c.rps),
          )}** | | | | **${ratio(
            avg(off, (c) => c.subgraphRequestsPerOp),
            avg(on, (c) => c.subgraphRequestsPerOp),
          )} fewer** | | |`,
        );
    }
    lines.push('');
  }
  if (r.hungSubgraph) {
    const h = r.hungSubgraph;
    lines.push(
      '## One subgraph hung (progress), breaker open',
      '',
      `A second gateway of ours whose \`PROGRESS_URL\` is a socket that accepts and never answers, default deadlines and breaker. Its breaker for progress opened after ${h.opening.dashboards} ClientDashboards in ${f(h.opening.seconds)} s (slowest ${f(h.opening.slowestMs, 0)} ms). Then each workload through the healthy gateway and the degraded one; the degraded cells include the probes the breaker lets through after each cool-down (answers over 1 s are counted).`,
      '',
      '| workload | progress | req/s | p50 ms | p99 ms | max ms | answers > 1 s | answers with errors | p99 hung − healthy | req/s hung / healthy |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [w, m] of byKey(h.cells, (c) => c.progress)) {
      const healthy = m.get('healthy')?.[0];
      for (const [p, [c]] of m)
        lines.push(
          `| ${w} | ${p} | ${f(c.rps)} | ${f(c.p50, 2)} | ${f(c.p99, 2)} | ${f(c.max, 0)} | ${c.slowerThan1s} | ${c.graphqlErrors} | ${healthy && c !== healthy ? `${f(c.p99 - healthy.p99, 2)} ms` : ''} | ${healthy && c !== healthy ? ratio(c.rps, healthy.rps) : ''} |`,
        );
    }
    lines.push('');
  }
  return lines;
}
