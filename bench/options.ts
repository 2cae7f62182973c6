import { parseArgs } from 'node:util';
import type { GatewayName } from './trace.js';

export const USAGE = `Usage: npm run bench -- [options]
  --scale N          data set size: N x (50 trainers, 2,000 clients, 100,000 bookings) (default 1; --soak 0.25)
  --duration S       seconds per load cell (default 10)
  --connections N    concurrent connections per load cell (default 8)
  --rounds N         repeat the side-by-side cells N times, gateways in rotated order (default 1)
  --rates a,b,...    offered loads (requests/s) for the latency chart; default: 15, 35, 60 and 85% of
                     our gateway's TrainerDashboard throughput
  --gateways list    ours,apollo,hive (default all three)
  --no-floor         skip replaying each subgraph fetch directly
  --profile          also run our gateway under --cpu-prof for a dashboard cell and summarise it
  --trace-only       only count subgraph requests and representations per operation and compare answers
  --only list        only these workloads of our gateway: same-operation (one user, N connections, the
                     same operation, SUBGRAPH_DEDUPLICATION on against off), hung (dashboards with
                     progress hung, breaker open, against healthy); by default both run after the
                     side-by-side cells. tracing (only when asked for): the dashboards on the whole
                     platform with OTEL_EXPORTER_OTLP_ENDPOINT set against the same platform without,
                     alternating, --rounds times. overhead (only when asked for): the gateway's own share of
                     each dashboard's latency at 1 connection, against its subgraph fetches replayed at 1
                     connection in the same round, with CPU ms/req, --rounds times; then the same on
                     recorded subgraphs (answers from memory: the gateway's overhead alone), and with
                     --profile its CPU profile there. defer (only when
                     asked for): the dashboards through our gateway with GATEWAY_DEFER_ENTITY_FETCHES on
                     against a second one with it off, at --connections and at 1 connection,
                     alternating, --rounds times, with subgraph requests/op and CPU ms/req
  --baseline DIR     with --only overhead: also the gateway of another checkout (e.g. /work/main), A/B
  --baseline-env K=V[,K=V...]  with --only overhead: the baseline gateway's environment over ours (e.g.
                     NODE_OPTIONS=--max-semi-space-size=64); without --baseline, this checkout's gateway
                     under that environment is the baseline
  --peers            with --only overhead: also plain @apollo/gateway and Hive Gateway on the recorded
                     subgraphs beside ours (the recordings keep what each of them asks)
  --soak             the long run instead: dashboards, mutations and --subscribers graphql-ws
                     subscribers against the platform for --minutes, memory and handles of every
                     process each minute
  --minutes N        soak length (default 15)
  --subscribers N    soak subscribers (default 1000)
  --rate N           soak dashboards per second (default 20; mutations at a quarter of it)
  --heap-snapshots DIR  soak: write heap snapshots of the gateway into DIR after minutes 1, the
                     middle one and the last (node --heapsnapshot-signal, between two minutes' load)
  --quick            smoke run: scale 0.05, 2 s cells, two rates
  --out DIR          where results go (default bench/results)
  --report FILE      only write the markdown summary again from a results .json
Postgres when DATABASE_URL is set (schemas of its own, dropped afterwards), else PGlite in a temporary folder.`;

export interface BenchOptions {
  scale: number;
  durationSeconds: number;
  connections: number;
  rounds: number;
  rates?: number[];
  gateways: GatewayName[];
  floor: boolean;
  profile: boolean;
  quick: boolean;
  traceOnly: boolean;
  out: string;
  report?: string;
  only?: ExtraWorkload[];
  /** --only overhead: the checkout whose gateway is measured beside ours. */
  baseline?: string;
  /** --baseline-env: variables set for the baseline gateway only. */
  baselineEnv?: Record<string, string>;
  /** --peers: plain @apollo/gateway and Hive Gateway beside ours on the recorded subgraphs (--only overhead). */
  peers: boolean;
  soak?: { minutes: number; subscribers: number; rate: number; heapSnapshots?: string };
}

export const EXTRA_WORKLOADS = ['same-operation', 'hung', 'tracing', 'overhead', 'defer'] as const;
export type ExtraWorkload = (typeof EXTRA_WORKLOADS)[number];

export function parseOptions(argv = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      rates: { type: 'string' },
      gateways: { type: 'string' },
      'no-floor': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      'trace-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      report: { type: 'string' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      'baseline-env': { type: 'string' },
      peers: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      minutes: { type: 'string' },
      subscribers: { type: 'string' },
      rate: { type: 'string' },
      'heap-snapshots': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number of at least ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const quick = values.quick;
  const gateways = (values.gateways ?? 'ours,apollo,hive').split(',').map((s) => s.trim()) as GatewayName[];
  for (const g of gateways) if (!['ours', 'apollo', 'hive'].includes(g)) fail(`--gateways: unknown gateway ${g}`);
  if (!gateways.includes('ours')) fail('--gateways must include ours: every ratio is to it');
  const rates = values.rates?.split(',').map((r) => num('rates', r, 0, 1));
  const only = values.only?.split(',').map((s) => s.trim()) as ExtraWorkload[] | undefined;
  for (const o of only ?? []) if (!EXTRA_WORKLOADS.includes(o)) fail(`--only: unknown workload ${o} (${EXTRA_WORKLOADS.join(', ')})`);
  if (values.baseline !== undefined && !only?.includes('overhead')) fail('--baseline belongs to --only overhead');
  if (values['baseline-env'] !== undefined && !only?.includes('overhead')) fail('--baseline-env belongs to --only overhead');
  if (values.peers && !only?.includes('overhead')) fail('--peers belongs to --only overhead');
  const baselineEnv =
    values['baseline-env'] === undefined
      ? undefined
      : Object.fromEntries(
          values['baseline-env'].split(',').map((pair) => {
            const at = pair.indexOf('=');
            if (at <= 0) fail(`--baseline-env takes NAME=value pairs, not ${pair}`);
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
        );
  if (!values.soak && (values.minutes ?? values.subscribers ?? values.rate ?? values['heap-snapshots']) !== undefined)
    fail('--minutes, --subscribers, --rate and --heap-snapshots belong to --soak');
  return {
    scale: num('scale', values.scale, quick ? 0.05 : values.soak ? 0.25 : 1, 0.001),
    durationSeconds: Math.round(num('duration', values.duration, quick ? 2 : 10, 1)),
    connections: Math.round(num('connections', values.connections, 8, 1)),
    rounds: Math.round(num('rounds', values.rounds, 1, 1)),
    rates,
    gateways,
    floor: !values['no-floor'],
    profile: values.profile,
    quick,
    traceOnly: values['trace-only'],
    out: values.out ?? 'bench/results',
    report: values.report,
    only,
    baseline: values.baseline,
    baselineEnv,
    peers: values.peers,
    soak: values.soak
      ? {
          minutes: num('minutes', values.minutes, 15, 1),
          subscribers: Math.round(num('subscribers', values.subscribers, 1000, 0)),
          rate: num('rate', values.rate, 20, 1),
          heapSnapshots: values['heap-snapshots'],
        }
      : undefined,
  };
}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(1);
}
