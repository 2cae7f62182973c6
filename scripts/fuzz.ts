// The long fuzz run (`npm run fuzz`): the properties of tests/fuzz.test.ts with many more
// cases, collecting every finding instead of stopping at the first, against a platform started
// in this process (PGlite, or Postgres with FUZZ_BACKEND=postgres and DATABASE_URL).
//
//   npm run fuzz                                  # 1000 cases per property (mutations: 400), a new seed
//   FUZZ_SEED=20261201 FUZZ_RUNS=3000 npm run fuzz
//   FUZZ_PROPERTIES='raw requests,mutations' npm run fuzz
import { randomInt } from 'node:crypto';
import { demoGym } from '@fitsync/demo-data';
import { testClock, type StorageBackend } from '@fitsync/service-kit/testing';
import { PROPERTIES, casesFor, fuzzEnv, prepareFuzz, runProperty, type FuzzFinding, type PropertyName } from '../tests/support/fuzz/run.js';
import { startPlatform } from '../tests/support/platform.js';

async function main() {
  const { seed, runs } = fuzzEnv(process.env, { seed: randomInt(2 ** 31), runs: 1000 });
  const wanted = (process.env.FUZZ_PROPERTIES ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = wanted.filter((p) => !(PROPERTIES as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`FUZZ_PROPERTIES: unknown ${unknown.join(', ')}; the properties are ${PROPERTIES.join(', ')}`);
  const properties = (wanted.length ? wanted : PROPERTIES) as PropertyName[];
  const backend: StorageBackend = process.env.FUZZ_BACKEND === 'postgres' ? 'postgres' : 'pglite';
  if (backend === 'postgres' && !process.env.DATABASE_URL) throw new Error('FUZZ_BACKEND=postgres needs DATABASE_URL');

  const { clock, today } = testClock();
  const gym = demoGym(today);
  console.log(`fuzz: seed ${seed}, FUZZ_RUNS ${runs}, ${backend}, properties: ${properties.map((p) => `${p} (${casesFor(p, runs)})`).join(', ')}`);
  const platform = await startPlatform(backend, [gym], { clock });
  let total = 0;
  const all: FuzzFinding[] = [];
  try {
    const setup = await prepareFuzz(platform, gym);
    for (const property of properties) {
      const report = await runProperty(setup, property, {
        seed,
        runs,
        failFast: false,
        onProgress: (p, done, of) => {
          if ((done % 250 === 0 || process.env.FUZZ_VERBOSE) && done <= of) console.log(`  ${p}: ${done}/${of}`);
        },
      });
      total += report.cases;
      all.push(...report.findings);
      console.log(`\n${property}: ${report.cases} cases in ${report.seconds.toFixed(1)} s (seed ${report.seed}), ${report.findings.length} findings`);
      for (const [outcome, n] of Object.entries(report.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${outcome}`);
    }
  } finally {
    await platform.close();
  }
  console.log(`\n${total} cases, ${all.length} findings (seed ${seed}, FUZZ_RUNS ${runs})`);
  // The same finding from many cases once, with its count and the first request that showed it.
  const groups = new Map<string, { n: number; first: FuzzFinding }>();
  for (const f of all) {
    const key = `${f.property} | ${f.kind} | ${f.detail.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>').slice(0, 160)}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { n: 1, first: f });
  }
  for (const [, { n, first }] of groups) {
    console.log(`\n[${first.property}] ${first.kind} (${n}x)\n  ${first.detail}\n  request: ${first.request}`);
  }
  // Exit even if a keep-alive socket or timer of the stopped platform lingers.
  process.exit(all.length ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
