import { readFile } from 'node:fs/promises';

/** What the subgraphs did, from their Prometheus `/metrics`. */
export interface SubgraphCounters {
  /** SQL statements sent to the database, per subgraph. */
  statements: Record<string, number>;
}

const sumOf = (text: string, metric: string) => {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === metric) total += Number(m[3]);
  }
  return total;
};

export async function readSubgraphCounters(subgraphs: Record<string, number>): Promise<SubgraphCounters> {
  const out: SubgraphCounters = { statements: {} };
  await Promise.all(
    Object.entries(subgraphs).map(async ([name, port]) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      out.statements[name] = sumOf(text, 'fitsync_sql_statements_total');
    }),
  );
  return out;
}

export function diffCounters(before: SubgraphCounters, after: SubgraphCounters): SubgraphCounters {
  const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));
  return { statements: diff(before.statements, after.statements) };
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
