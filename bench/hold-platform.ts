// dev only: seeds, starts five subgraphs and our gateway, writes /tmp/ovh/platform.json, waits.
import { mkdir, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import { SUBGRAPHS, type SubgraphName } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import { BENCH_METRICS_TOKEN } from './counters.js';
import { seedBenchData } from './data.js';
import { freePort, graphqlProbe, readyProbe, spawnService, waitUntil } from './processes.js';
import { buildWorkloads, requestBody } from './workloads.js';
import { traceWorkloads } from './trace.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const data = await seedBenchData({ scale: 1, databaseUrl: process.env.DATABASE_URL });
const scratch = await mkdtemp(join(tmpdir(), 'ovh-'));
const ports = {} as Record<SubgraphName, number>;
for (const s of SUBGRAPHS) ports[s] = await freePort();
const urls = Object.fromEntries(SUBGRAPHS.map((s) => [s, `http://127.0.0.1:${ports[s]}/graphql`])) as Record<SubgraphName, string>;
const sources = await loadSupergraphConfig(join(ROOT, 'supergraph.yaml'));
const composed = compose(sources.map((s) => ({ ...s, url: urls[s.name as SubgraphName] ?? s.url })));
if (!composed.ok) throw new Error('no compose');
const supergraphPath = join(scratch, 'supergraph.graphql');
await writeFile(supergraphPath, composed.supergraphSdl);
const baseEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEED_DEMO: 'never',
  JWT_SECRET: TEST_JWT_SECRET, SERVICE_SECRET: TEST_SERVICE_SECRET, SUPERGRAPH_PATH: supergraphPath, APOLLO_TELEMETRY_DISABLED: 'true',
  RATE_LIMIT_OPERATIONS: 'off', TRUSTED_DOCUMENTS: 'off', METRICS_TOKEN: BENCH_METRICS_TOKEN,
  ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_PORT`, String(ports[s])])),
  ...Object.fromEntries(SUBGRAPHS.map((s) => [`${s.toUpperCase()}_URL`, urls[s]])),
  ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } : {}),
};
const procs = SUBGRAPHS.map((s) => spawnService({ name: s, entry: join(ROOT, 'subgraphs', s, 'src/index.ts'), port: ports[s], path: '/graphql', cwd: ROOT, env: { ...baseEnv, ...data.envFor(s) } }));
await Promise.all(procs.map((p) => waitUntil(p, readyProbe(p.port))));
const gws: Record<string, { url: string; pid: number }> = {};
for (const [name, root] of Object.entries({ ours: ROOT, ...(process.env.BASELINE ? { base: process.env.BASELINE } : {}) })) {
  const port = await freePort();
  const g = spawnService({ name, entry: join(root, 'gateway/src/index.ts'), port, path: '/graphql', cwd: root, nodeArgs: (process.env.GW_NODE_ARGS ?? '').split(' ').filter(Boolean), env: { ...baseEnv, GATEWAY_PORT: String(port) } });
  procs.push(g);
  await waitUntil(g, graphqlProbe(g.url));
  gws[name] = { url: g.url, pid: g.child.pid! };
}
const workloads = await buildWorkloads(data.gym, TEST_JWT_SECRET);
const traces = await traceWorkloads({ supergraphSdl: composed.supergraphSdl, supergraphPath, subgraphs: urls, serviceSecret: TEST_SERVICE_SECRET, workloads, usersPerWorkload: 20 });
await mkdir('/tmp/ovh', { recursive: true });
await writeFile('/tmp/ovh/platform.json', JSON.stringify({
  gateways: gws,
  subgraphs: Object.fromEntries(procs.slice(0, 5).map((p) => [p.name, { url: p.url, pid: p.child.pid }])),
  workloads: workloads.map((w) => ({ name: w.name, body: requestBody(w), tokens: w.tokens })),
  traces: Object.fromEntries([...traces].map(([n, t]) => [n, { plan: t.plan, fetches: Object.fromEntries([...t.fetches].map(([k, f]) => [k, { ...f, samples: f.samples }])) }])),
}, null, 1));
console.log('READY');
const stop = async () => { await Promise.all(procs.map((p) => p.stop())); await data.dispose(); process.exit(0); };
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
setInterval(() => {}, 1 << 30);
