// The operators' files in deploy/ against the code: every metric the Grafana dashboard and the
// Prometheus alert rules name is one a FitSync service registers (the gateway's registry as
// buildGateway makes it, and a subgraph's: service-kit's metrics, the service clients' and
// the event runtime's). The e2e twin (tests/metrics.test.ts) finds each selector's series on
// live /metrics after the workflows.
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import { createEventMetrics } from '@fitsync/events';
import { buildGateway } from '@fitsync/gateway';
import { createMetrics, serviceCallMetrics } from '@fitsync/service-kit';
import { testConfig } from '@fitsync/service-kit/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alertExpressions, alertRules, dashboardExpressions, familyOf, selectorsOf } from './support/deploy-metrics.js';

async function registeredNames(): Promise<Set<string>> {
  const subgraph = createMetrics('schedule');
  serviceCallMetrics(subgraph);
  createEventMetrics(subgraph.registry);
  const sources = await loadSupergraphConfig(fileURLToPath(new URL('../supergraph.yaml', import.meta.url)));
  const composed = compose(sources);
  if (!composed.ok) throw new Error('supergraph.yaml does not compose');
  // Built, never listening: its registry holds everything the gateway records.
  const gateway = await buildGateway(testConfig('gateway'), { supergraphSdl: composed.supergraphSdl });
  try {
    const names = [...subgraph.registry.getMetricsAsArray(), ...gateway.metrics.registry.getMetricsAsArray()].map((m) => m.name);
    return new Set(names);
  } finally {
    await gateway.close();
  }
}

describe('selectorsOf (the PromQL reading the checks rely on)', () => {
  it('finds metric names and matchers, not functions, grouping labels, ranges or strings', () => {
    expect(selectorsOf('histogram_quantile(0.95, sum by (le, service) (rate(fitsync_x_bucket{route="/graphql", status=~"5.."}[$__rate_interval])))')).toEqual([
      {
        metric: 'fitsync_x_bucket',
        matchers: [
          { label: 'route', op: '=', value: '/graphql' },
          { label: 'status', op: '=~', value: '5..' },
        ],
      },
    ]);
    expect(selectorsOf('sum(rate(a_total[5m])) / on (job) group_left sum(b) > 0.05 and c unless d offset 1h')).toEqual(
      ['a_total', 'b', 'c', 'd'].map((metric) => ({ metric, matchers: [] })),
    );
  });
});

describe('deploy/grafana and deploy/prometheus', () => {
  const expressions = [...dashboardExpressions(), ...alertExpressions()];

  it('every dashboard panel and alert has an expression naming at least one metric', () => {
    expect(dashboardExpressions().length).toBeGreaterThanOrEqual(10);
    for (const { origin, expr } of expressions) expect(selectorsOf(expr).length, origin).toBeGreaterThan(0);
  });

  it('has the alerts operators need: breaker open, dead letters growing, consumer lag, error rate', () => {
    const rules = alertRules();
    const byName = new Map(rules.map((r) => [r.alert, r]));
    for (const name of ['FitSyncBreakerOpen', 'FitSyncDeadLettersGrowing', 'FitSyncConsumerLag', 'FitSyncServiceCallErrors', 'FitSyncServerErrors'])
      expect(byName.has(name), name).toBe(true);
    for (const r of rules) {
      expect(r.labels?.severity, r.alert).toMatch(/^(warning|critical)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('names only metrics the code registers', async () => {
    const families = await registeredNames();
    const unknown = expressions.flatMap(({ origin, expr }) =>
      selectorsOf(expr)
        .filter((s) => !familyOf(s.metric, families))
        .map((s) => `${origin}: ${s.metric}`),
    );
    expect(unknown).toEqual([]);
  });
});
