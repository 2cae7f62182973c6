import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, served on `/metrics`. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    sqlStatements: new Counter({ name: 'fitsync_sql_statements_total', help: 'SQL statements sent to the database', registers: [registry] }),
    httpDuration: new Histogram({
      name: 'fitsync_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A histogram on a process's own registry, for timings only one service records
 * (the gateway's subgraph fetches, for example).
 */
export function createHistogram<L extends string>(
  metrics: Metrics,
  opts: { name: string; help: string; labelNames: readonly L[]; buckets?: number[] },
): Histogram<L> {
  return new Histogram<L>({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames,
    buckets: opts.buckets ?? [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  });
}

/** A gauge on a process's own registry (the state of the gateway's breakers, for example). */
export function createGauge<L extends string>(
  metrics: Metrics,
  opts: { name: string; help: string; labelNames: readonly L[]; collect?: (this: Gauge<L>) => void | Promise<void> },
): Gauge<L> {
  return new Gauge<L>({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [metrics.registry], collect: opts.collect });
}

/** A counter on a process's own registry, for events only one service counts (the gateway's rate-limit refusals, for example). */
export function createCounter<L extends string>(metrics: Metrics, opts: { name: string; help: string; labelNames: readonly L[] }): Counter<L> {
  return new Counter<L>({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [metrics.registry] });
}

/** How a call from one service to another ended: answered, answered with GraphQL errors, not answered, or not sent (breaker open). */
export type CallOutcome = 'ok' | 'errors' | 'unavailable' | 'open';
/** A circuit breaker's state as a gauge value. */
export const BREAKER_VALUES = { closed: 0, halfOpen: 1, open: 2 } as const;

const callMetrics = new WeakMap<Metrics, ReturnType<typeof createCallMetrics>>();

function createCallMetrics(metrics: Metrics) {
  return {
    duration: createHistogram(metrics, {
      name: 'fitsync_service_call_duration_seconds',
      help: 'Calls from one service to another (gateway to subgraph, subgraph to subgraph), by caller, target and outcome (ok, errors, unavailable, open)',
      labelNames: ['caller', 'target', 'outcome'] as const,
    }),
    breaker: createGauge(metrics, {
      name: 'fitsync_service_breaker_state',
      help: 'The circuit breaker of a caller in front of a target: 0 closed, 1 half-open (probing), 2 open (failing fast)',
      labelNames: ['caller', 'target'] as const,
    }),
  };
}

/** The service-to-service call metrics on a process's registry (one set, however many clients record into it). */
export function serviceCallMetrics(metrics: Metrics) {
  let m = callMetrics.get(metrics);
  if (!m) callMetrics.set(metrics, (m = createCallMetrics(metrics)));
  return m;
}
