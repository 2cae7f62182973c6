import { Counter, type Registry } from 'prom-client';

/** Event counters on a service's own registry (served on its /metrics). */
export function createEventMetrics(registry: Registry) {
  // A registry shared by several runtimes (a consumer restarted in one process) keeps one set.
  const counter = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Counter<'channel'> | undefined) ?? new Counter({ name, help, labelNames: ['channel'], registers: [registry] });
  return {
    published: counter('fitsync_events_published_total', 'Events the relay published from the outbox'),
    handled: counter('fitsync_events_handled_total', 'Events handled and committed (duplicates skipped are not counted)'),
    duplicates: counter('fitsync_events_duplicate_total', 'Deliveries of an event this service had already handled'),
    failed: counter('fitsync_events_failed_total', 'Handler attempts that failed'),
    deadLettered: counter('fitsync_events_dead_lettered_total', 'Events moved to the dead-letter stream'),
  };
}
export type EventMetrics = ReturnType<typeof createEventMetrics>;
