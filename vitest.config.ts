import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

const ALL = ['packages/*/src/**/*.test.ts', 'subgraphs/*/src/**/*.test.ts', 'gateway/src/**/*.test.ts', 'tests/**/*.test.ts'];
// Benchmarks (bench/, *.bench.ts) never run as tests.
const NEVER = ['**/node_modules/**', 'bench/**', '**/*.bench.ts'];

/**
 * The fast tier (`npm run test:unit`): files that boot no process, no database and no
 * platform (pure functions, an in-process stub server at most), each well under a second.
 * Chosen by measuring: every test that opens a PGlite database pays seconds for its
 * cluster, so the subgraph tests, even single-subgraph ones, are end to end here.
 * A new test file is end to end until it is listed here.
 */
const UNIT = [
  'gateway/src/__tests__/auth-limits.test.ts',
  'gateway/src/__tests__/conformance.test.ts',
  'gateway/src/__tests__/cost.test.ts',
  'gateway/src/__tests__/entity-batch.test.ts',
  'gateway/src/__tests__/inflight.test.ts',
  'gateway/src/__tests__/live-limiter.test.ts',
  'gateway/src/__tests__/live-router.test.ts',
  'gateway/src/__tests__/planner-fixes.test.ts',
  'gateway/src/__tests__/representations.test.ts',
  'gateway/src/__tests__/supergraph.test.ts',
  'gateway/src/__tests__/trusted-documents.test.ts',
  'gateway/src/__tests__/upstream.test.ts',
  'packages/composition/src/__tests__/history.test.ts',
  'packages/composition/src/__tests__/live.test.ts',
  'packages/composition/src/__tests__/live-topics.test.ts',
  'packages/composition/src/__tests__/register.test.ts',
  'packages/demo-data/src/__tests__/generate.test.ts',
  'packages/events/src/__tests__/wait-for-events.test.ts',
  'packages/service-kit/src/__tests__/clock.test.ts',
  'packages/service-kit/src/__tests__/config.test.ts',
  'packages/service-kit/src/__tests__/db-errors.test.ts',
  'packages/service-kit/src/__tests__/errors.test.ts',
  'packages/service-kit/src/__tests__/keys.test.ts',
  'packages/service-kit/src/__tests__/rate-limits.test.ts',
  'packages/service-kit/src/__tests__/scalars.test.ts',
  'packages/service-kit/src/__tests__/service-client.test.ts',
  'packages/service-kit/src/__tests__/telemetry.test.ts',
  'packages/service-kit/src/__tests__/token-verifier.test.ts',
  'subgraphs/notifications/src/__tests__/mail.test.ts',
  'subgraphs/progress/src/__tests__/adherence.test.ts',
  'subgraphs/schedule/src/__tests__/live.test.ts',
  'tests/deploy-metrics.test.ts',
  'tests/docker-compose.test.ts',
  'tests/engines.test.ts',
  'tests/fuzz-oracle.test.ts',
  'tests/install-scripts.test.ts',
  'tests/kubernetes.test.ts',
];

// `npm test` runs both projects; `--project unit` or `--project e2e` runs one.
// Every project extends this root config, so the alias and inlined dependencies below hold in each.
export default defineConfig({
  resolve: {
    // Node (npm start, tsx) loads graphql's CommonJS build for everyone; Vite would hand
    // our sources the ESM build while @apollo/* packages get the CommonJS one, and graphql
    // refuses schemas built by the other copy. One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { LOG_LEVEL: 'silent', TZ: 'UTC' },
    // Load graphql-inspector through vite like our code, so both see the same (ESM) graphql
    // module: graphql-js refuses a schema built by another copy of itself.
    server: { deps: { inline: ['@graphql-inspector/core'] } },
    // include and exclude live in the projects only: a project's arrays are appended to the root's.
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, exclude: NEVER } },
      { extends: true, test: { name: 'e2e', include: ALL, exclude: [...NEVER, ...UNIT] } },
    ],
  },
});
