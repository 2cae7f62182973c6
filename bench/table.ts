// Number formatting and the columns every load-cell table shares, so the sections of a bench
// report print the same figure the same way.
import type { CellResult } from './load.js';

/** A figure with `digits` decimals, or an en dash when there is none. */
export const f = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

/** `a ÷ b` as `1.23×`, or an en dash when either is missing. */
export const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '–');

/** The median of `xs` (the mean of the middle two when their number is even), NaN when empty. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** The mean of `k` over `xs` (NaN when one of them has no figure, so the cell prints a dash). */
export const avg = <T>(xs: T[], k: (x: T) => number | undefined) => xs.reduce((a, x) => a + (k(x) ?? NaN), 0) / xs.length;

/** A load cell as the fetch tables show it, with the figures the gateway's counters added. */
export interface CountedCell extends CellResult {
  subgraphRequestsPerOp?: number;
  deduplicatedPerOp?: number;
  cpuMsPerRequest?: number;
}

/**
 * The columns `req/s | p50 ms | p99 ms | errors | subgraph requests/op | shared fetches/op |
 * gateway CPU ms/req` over the cells of one row: means over rounds, errors summed (connection
 * errors, non-2xx answers and answers carrying GraphQL errors).
 */
export function cellColumns(cs: CountedCell[]): string[] {
  return [
    f(avg(cs, (c) => c.rps)),
    f(
      avg(cs, (c) => c.p50),
      2,
    ),
    f(
      avg(cs, (c) => c.p99),
      2,
    ),
    String(cs.reduce((a, c) => a + c.errors + c.non2xx + c.graphqlErrors, 0)),
    f(
      avg(cs, (c) => c.subgraphRequestsPerOp),
      2,
    ),
    f(
      avg(cs, (c) => c.deduplicatedPerOp),
      2,
    ),
    f(
      avg(cs, (c) => c.cpuMsPerRequest),
      2,
    ),
  ];
}

/**
 * `k(a) ÷ k(b)` round by round (cells paired by their `round`), as `0.91×, 1.02×, 0.88×`: how
 * far a ratio moves between rounds of one run is the run-to-run noise a difference has to beat.
 */
export function ratiosByRound<T extends { round?: number }>(a: T[], b: T[], k: (c: T) => number | undefined): string {
  const rounds = [...new Set(a.map((c) => c.round ?? 0))].sort((x, y) => x - y);
  const out: string[] = [];
  for (const round of rounds) {
    const x = a.filter((c) => (c.round ?? 0) === round);
    const y = b.filter((c) => (c.round ?? 0) === round);
    if (x.length && y.length) out.push(ratio(avg(x, k), avg(y, k)));
  }
  return out.join(', ') || '–';
}
