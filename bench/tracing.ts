// npm run bench -- --only tracing: the whole platform with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT
// set, the default sampler, so every operation is traced in full) against the same platform with
// it off, side by side in one run on the same data: five subgraphs and a gateway each, the
// dashboards alternating between the two. Spans go to an OTLP/HTTP receiver in this process
// that accepts and drops them (and counts them).
import { createServer, type Server } from 'node:http';
import { cpuSeconds } from './counters.js';
import { runCell, type CellResult } from './load.js';
import type { Proc } from './processes.js';
import { requestBody, type Workload } from './workloads.js';

export interface TracingCell extends CellResult {
  tracing: 'off' | 'on';
  workload: string;
  connections: number;
  round: number;
  /** CPU time of the platform's six processes per operation answered: less sensitive than req/s to what else the machine runs. */
  cpuMsPerRequest?: number;
}

/** Accepts OTLP/HTTP exports, counts their bytes and requests, and drops them. */
export async function droppingReceiver(): Promise<{ endpoint: string; exports(): number; bytes(): number; close(): Promise<void> }> {
  let exports = 0;
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/x-protobuf') }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The OTEL_* variables of the traced platform: the standard ones only, protobuf as by default. */
export const tracingEnv = (endpoint: string): NodeJS.ProcessEnv => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });

/**
 * The dashboards on each platform in turn (order rotated per round), the same connections and
 * duration: throughput and latency with tracing on and off, measured in the same minutes.
 */
export async function tracingWorkload(
  ctx: { say(msg: string): void; show(label: string, r: CellResult): void; durationSeconds: number; connections: number },
  gateways: { off: Proc; on: Proc },
  /** Every process of each platform (subgraphs and gateway), for their CPU time. */
  platforms: { off: Proc[]; on: Proc[] },
  workloads: Workload[],
  rounds: number,
  receiver: { exports(): number; bytes(): number },
): Promise<{ cells: TracingCell[]; exportedBytes: number }> {
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
  const cell = (proc: Proc, w: Workload, durationSeconds: number) =>
    runCell({
      url: proc.url,
      connections: ctx.connections,
      durationSeconds,
      next: () => ({ body: requestBody(w), headers: { authorization: `Bearer ${pick(w.tokens)}` } }),
    });
  ctx.say('warming up both platforms...');
  for (const w of workloads) for (const proc of [gateways.off, gateways.on]) await cell(proc, w, 3);
  const cells: TracingCell[] = [];
  const bytesBefore = receiver.bytes();
  for (let round = 0; round < rounds; round++) {
    for (const [wi, w] of workloads.entries()) {
      const order: ('off' | 'on')[] = (wi + round) % 2 ? ['on', 'off'] : ['off', 'on'];
      for (const tracing of order) {
        const cpu = async () => {
          const each = await Promise.all(platforms[tracing].map((p) => cpuSeconds(p.child.pid)));
          return each.every((c) => c !== undefined) ? each.reduce((a, c) => a + c, 0) : undefined;
        };
        const cpu0 = await cpu();
        const r = await cell(gateways[tracing], w, ctx.durationSeconds);
        const cpu1 = await cpu();
        const sent = r.requests + r.non2xx;
        const cpuMsPerRequest = cpu0 !== undefined && cpu1 !== undefined && sent ? ((cpu1 - cpu0) * 1000) / sent : undefined;
        cells.push({ ...r, tracing, workload: w.name, connections: ctx.connections, round, cpuMsPerRequest });
        ctx.show(`${w.name} · tracing ${tracing}`, r);
      }
    }
  }
  return { cells, exportedBytes: receiver.bytes() - bytesBefore };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function tracingSection(t: { cells: TracingCell[]; exportedBytes: number } | undefined): string[] {
  if (!t?.cells.length) return [];
  const lines = [
    `## Tracing on against off (${t.cells[0].connections} connections)`,
    '',
    'The whole platform twice on the same data: five subgraphs and a gateway with `OTEL_EXPORTER_OTLP_ENDPOINT` set (the default sampler, `parentbased_always_on`: every operation traced, http/protobuf to a receiver in the bench process that accepts and drops), and the same without it. Cells alternate between the two; ratios are on / off.',
    '',
    '| workload | tracing | req/s | p50 ms | p99 ms | errors | platform CPU ms/op |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const workloads = [...new Set(t.cells.map((c) => c.workload))];
  const avg = (cs: TracingCell[], k: (c: TracingCell) => number) => cs.reduce((a, c) => a + k(c), 0) / cs.length;
  const ratios: string[] = [];
  for (const w of workloads) {
    const of = (tracing: 'on' | 'off') => t.cells.filter((c) => c.workload === w && c.tracing === tracing);
    for (const tracing of ['off', 'on'] as const) {
      const cs = of(tracing);
      lines.push(
        `| ${w} | ${tracing} | ${f(avg(cs, (c) => c.rps))} | ${f(
          avg(cs, (c) => c.p50),
          2,
        )} | ${f(
          avg(cs, (c) => c.p99),
          2,
        )} | ${cs.reduce((a, c) => a + c.errors + c.non2xx + c.graphqlErrors, 0)} | ${f(avg(cs, (c) => c.cpuMsPerRequest ?? NaN))} |`,
      );
    }
    const [on, off] = [of('on'), of('off')];
    ratios.push(
      `- ${w}: CPU per operation ×${f(avg(on, (c) => c.cpuMsPerRequest ?? NaN) / avg(off, (c) => c.cpuMsPerRequest ?? NaN), 2)}, throughput ×${f(avg(on, (c) => c.rps) / avg(off, (c) => c.rps), 2)}, p50 ×${f(avg(on, (c) => c.p50) / avg(off, (c) => c.p50), 2)}, p99 ×${f(
        avg(on, (c) => c.p99) / avg(off, (c) => c.p99),
        2,
      )}`,
    );
  }
  lines.push('', 'On / off:', '', ...ratios, '', `Exported during the cells: ${f(t.exportedBytes / 1e6)} MB of OTLP protobuf.`, '');
  return lines;
}
