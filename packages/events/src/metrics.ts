import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Reports, per channel, how many entries wait for one consumer group. */
export type LagSource = { consumer: string; lag(): Promise<Partial<Record<string, number>>> };

/** Publish-to-handled buckets: milliseconds when all is well, minutes when a consumer was down. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

function create(registry: Registry) {
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['channel'], registers: [registry] });
  const lagSources = new Set<LagSource>();
  return {
    published: counter('fitsync_events_published_total', 'Events the relay published from the outbox'),
    handled: counter('fitsync_events_handled_total', 'Events handled and committed (duplicates skipped are not counted)'),
    duplicates: counter('fitsync_events_duplicate_total', 'Deliveries of an event this service had already handled'),
    failed: counter('fitsync_events_failed_total', 'Handler attempts that failed'),
    deadLettered: counter('fitsync_events_dead_lettered_total', 'Events moved to the dead-letter stream'),
    publishToHandled: new Histogram({
      name: 'fitsync_events_publish_to_handled_seconds',
      help: 'From the relay publishing an event to this consumer having handled and committed it (retries included)',
      labelNames: ['channel', 'consumer'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    lagSources,
    lag: new Gauge({
      name: 'fitsync_events_consumer_lag',
      help: 'Events published on a channel and not yet handled by this consumer group (undelivered, unacknowledged or awaiting retry)',
      labelNames: ['channel', 'consumer'],
      registers: [registry],
      // Read at scrape time; a broker that does not answer leaves the last values.
      async collect() {
        await Promise.all(
          [...lagSources].map(async (source) => {
            const lag = await source.lag().catch(() => undefined);
            for (const [channel, n] of Object.entries(lag ?? {})) if (n !== undefined) this.set({ channel, consumer: source.consumer }, n);
          }),
        );
      },
    }),
  };
}

export type EventMetrics = ReturnType<typeof create>;

// A registry shared by several runtimes (a consumer restarted in one process) keeps one set.
const byRegistry = new WeakMap<Registry, EventMetrics>();

/** Event metrics on a service's own registry (served on its /metrics). */
export function createEventMetrics(registry: Registry): EventMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) byRegistry.set(registry, (metrics = create(registry)));
  return metrics;
}
