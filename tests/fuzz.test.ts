// The bounded fuzz run of `npm test` (issue 12): generated documents, variables and raw HTTP
// requests against the gateway (development and production) and every subgraph. A fixed seed
// by default, so a failure reproduces; FUZZ_SEED and FUZZ_RUNS change it, and `npm run fuzz`
// runs the long version. The first failing case is printed with its seed and path.
import { demoGym } from '@fitsync/demo-data';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROPERTIES, casesFor, fuzzEnv, prepareFuzz, runProperty, type FuzzSetup } from './support/fuzz/run.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const { seed, runs } = fuzzEnv(process.env, { seed: 20_261_201, runs: 60 });

describe(`fuzzing every door (FUZZ_SEED=${seed}, FUZZ_RUNS=${runs})`, () => {
  let platform: Platform;
  let setup: FuzzSetup;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    setup = await prepareFuzz(platform, gym);
  }, 180_000);
  afterAll(async () => {
    await platform?.close();
  });

  it.each(PROPERTIES)(
    '%s: no 5xx, every error coded, no stack, path, SQL or address, nothing written by a failure, every process still serving',
    async (property) => {
      const report = await runProperty(setup, property, { seed, runs, failFast: true });
      expect(report.findings).toEqual([]);
      expect(report.cases).toBe(casesFor(property, runs));
      // Positive controls: the generated requests reach the resolvers, not only the parser.
      const count = (re: RegExp) => Object.entries(report.outcomes).reduce((n, [k, v]) => (re.test(k) ? n + v : n), 0);
      if (property === 'gateway documents' || property === 'subgraph documents') expect(count(/^200 data/)).toBeGreaterThan(0);
      // Mutations: generated ones reach the resolvers (answered 200), and the digests see a known write.
      if (property === 'mutations') {
        expect(count(/^(200|wrote)/), JSON.stringify(report.outcomes)).toBeGreaterThan(0);
        expect(report.outcomes['control wrote'], JSON.stringify(report.outcomes)).toBe(1);
      }
      if (property === 'raw requests') expect(count(/^200$/)).toBeGreaterThan(0);
    },
    180_000,
  );
});
