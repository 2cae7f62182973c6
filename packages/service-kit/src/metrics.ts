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
export function createGauge<L extends string>(metrics: Metrics, opts: { name: string; help: string; labelNames: readonly L[] }): Gauge<L> {
  return new Gauge<L>({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [metrics.registry] });
}

/** A counter on a process's own registry, for events only one service counts (the gateway's rate-limit refusals, for example). */
export function createCounter<L extends string>(metrics: Metrics, opts: { name: string; help: string; labelNames: readonly L[] }): Counter<L> {
  return new Counter<L>({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [metrics.registry] });
}
