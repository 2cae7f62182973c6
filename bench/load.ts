import autocannon from 'autocannon';
import type { ErrorAnswer } from './error-answers.js';

/** What one cell (one target, one load) measured. */
export interface CellResult {
  requests: number;
  /** Requests sent, answered or not (those still in flight when the cell ended included). */
  sent?: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  /** 2xx answers whose body carried a GraphQL `errors` entry. */
  graphqlErrors: number;
}

export interface CellSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Fixed offered load in requests per second across all connections; unset = as fast as it answers. */
  rate?: number;
  headers?: Record<string, string>;
  /** Picks the body and headers of each request (random user, captured fetch). */
  next(): { body: string; headers: Record<string, string> };
  /** Sees every 2xx answer's latency (ms), for figures beyond the percentiles. */
  onLatency?(ms: number): void;
  /**
   * Sees every answer that counts as an error: a non-2xx, a 2xx with `"errors":` in its body
   * (status, body, headers), or a connection error or timeout (status 0 and what the client said).
   */
  onError?(answer: ErrorAnswer): void;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Drives one target with autocannon. Latencies are recorded here from every
 * answer's exact duration: autocannon's own histogram rounds to whole
 * milliseconds, too coarse for the gateway's overhead.
 */
export async function runCell(spec: CellSpec): Promise<CellResult> {
  const latencies: number[] = [];
  let graphqlErrors = 0;
  const options: autocannon.Options = {
    url: spec.url,
    method: 'POST',
    connections: spec.connections,
    duration: spec.durationSeconds,
    ...(spec.rate ? { overallRate: spec.rate } : {}),
    timeout: 30,
    headers: { 'content-type': 'application/json', ...spec.headers },
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const { body, headers } = spec.next();
          return { ...req, body, headers: { ...req.headers, ...headers } };
        },
        onResponse: (status, body, _context, headers) => {
          const ok = status >= 200 && status < 300;
          if (ok && body.includes('"errors":')) graphqlErrors++;
          if (spec.onError && (!ok || body.includes('"errors":'))) spec.onError({ status, body, headers });
        },
      },
    ],
  };
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(options, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) {
      latencies.push(ms);
      spec.onLatency?.(ms);
    }
  });
  if (spec.onError) instance.on('reqError', (err: Error) => spec.onError!({ status: 0, transport: err.message }));
  const started = performance.now();
  const result = await done;
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    sent: result.requests.sent,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    errors: result.errors,
    non2xx: result.non2xx,
    graphqlErrors,
  };
}
