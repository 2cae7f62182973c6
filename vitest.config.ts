import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// `npm test` runs unit and end-to-end tests; benchmarks (bench/) never run here.
export default defineConfig({
  resolve: {
    // Node (npm start, tsx) loads graphql's CommonJS build for everyone; Vite would hand
    // our sources the ESM build while @apollo/* packages get the CommonJS one, and graphql
    // refuses schemas built by the other copy. One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'subgraphs/*/src/**/*.test.ts', 'gateway/src/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'bench/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { LOG_LEVEL: 'silent', TZ: 'UTC' },
    // Load graphql-inspector through vite like our code, so both see the same (ESM) graphql
    // module: graphql-js refuses a schema built by another copy of itself.
    server: { deps: { inline: ['@graphql-inspector/core'] } },
  },
});
