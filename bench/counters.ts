import { readFile } from 'node:fs/promises';

/** What the subgraphs did, from their Prometheus `/metrics`. */
export interface SubgraphCounters {
  /** SQL statements sent to the database, per subgraph. */
  statements: Record<string, number>;
  /** `/graphql` requests answered, per subgraph (from its HTTP duration histogram). */
  requests: Record<string, number>;
}

/** The sum of one metric's samples in a Prometheus text exposition, optionally only those whose labels include `labelMatch`. */
export const sumOf = (text: string, metric: string, labelMatch?: string) => {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === metric && (!labelMatch || (m[2] ?? '').includes(labelMatch))) total += Number(m[3]);
  }
  return total;
};

/** Every process of a run gets this METRICS_TOKEN: in production `/metrics` is served only to its holder. */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-not-a-secret';

export async function readMetrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`/metrics on port ${port} answered ${res.status}`);
  return res.text();
}

export async function readSubgraphCounters(subgraphs: Record<string, number>): Promise<SubgraphCounters> {
  const out: SubgraphCounters = { statements: {}, requests: {} };
  await Promise.all(
    Object.entries(subgraphs).map(async ([name, port]) => {
      const text = await readMetrics(port);
      out.statements[name] = sumOf(text, 'fitsync_sql_statements_total');
      out.requests[name] = sumOf(text, 'fitsync_http_request_duration_seconds_count', 'route="/graphql"');
    }),
  );
  return out;
}

export function diffCounters(before: SubgraphCounters, after: SubgraphCounters): SubgraphCounters {
  const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));
  return { statements: diff(before.statements, after.statements), requests: diff(before.requests, after.requests) };
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** What the scheduler says of one thread so far (Linux `/proc/<pid>/task/<tid>/schedstat`). */
export interface SchedStat {
  /** Time on a core, ns. */
  runNs: number;
  /** Time runnable but waiting for a core (the run queue), ns. */
  waitNs: number;
  /** Times it was put on a core: each wake-up (an answer arrived, a timer fired) is at least one. */
  slices: number;
}

/**
 * The scheduler's account of a process's main thread (the thread JavaScript runs on);
 * undefined where /proc has no schedstat (not Linux, or schedstats off).
 */
export async function schedStat(pid: number | undefined): Promise<SchedStat | undefined> {
  if (!pid) return undefined;
  try {
    const [runNs, waitNs, slices] = (await readFile(`/proc/${pid}/task/${pid}/schedstat`, 'utf8')).trim().split(/\s+/).map(Number);
    return [runNs, waitNs, slices].every(Number.isFinite) ? { runNs, waitNs, slices } : undefined;
  } catch {
    return undefined;
  }
}

/** after − before (undefined where either reading is missing). */
export function schedDelta(before: SchedStat | undefined, after: SchedStat | undefined): SchedStat | undefined {
  if (!before || !after) return undefined;
  return { runNs: after.runNs - before.runNs, waitNs: after.waitNs - before.waitNs, slices: after.slices - before.slices };
}
