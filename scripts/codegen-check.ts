// npm run codegen:check: fails when a checked-in generated file is not what its sources
// produce now. CI runs it; `npm run generate` rewrites everything it checks.
//
// 1. Composes supergraph.yaml and supergraph.docker.yaml in memory and compares the result
//    with supergraph.graphql, api-schema.graphql and supergraph.docker.graphql.
// 2. Runs graphql-codegen over codegen.ts and reports every generated file it changed or
//    created (the snapshot before and after), and, in CI, every generated file git does not
//    have committed as it is.
import { stripVTControlCharacters } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiSchemaSdl, compose, formatProblems, loadSupergraphConfig } from '@fitsync/composition';
import { loadToolConfig } from '@fitsync/service-kit';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIX = 'npm run generate';

/** Checked-in compositions: each config and the files made from it. */
const COMPOSITIONS = [
  { config: 'supergraph.yaml', supergraph: 'supergraph.graphql', api: 'api-schema.graphql' },
  { config: 'supergraph.docker.yaml', supergraph: 'supergraph.docker.graphql' },
] as const;

const problems: string[] = [];
const fail = (message: string) => problems.push(message);

async function readOrNull(path: string): Promise<string | null> {
  return readFile(join(root, path), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
}

async function checkCompositions() {
  for (const c of COMPOSITIONS) {
    const result = compose(await loadSupergraphConfig(join(root, c.config)));
    if (!result.ok) {
      fail(`${c.config} does not compose (${result.problems.length} error(s)):\n${formatProblems(result.problems)}`);
      continue;
    }
    const expected: [string, string][] = [[c.supergraph, result.supergraphSdl]];
    if ('api' in c) expected.push([c.api, apiSchemaSdl(result.supergraphSdl)]);
    for (const [file, fresh] of expected) {
      const current = await readOrNull(file);
      if (current === null) fail(`${file} is missing (composed from ${c.config})`);
      else if (current !== fresh) fail(`${file} is stale: composing ${c.config} now gives a different schema`);
      else console.log(`  ok  ${file}`);
    }
  }
}

/** Where graphql-codegen writes (codegen.ts): `subgraphs/<name>/src/__generated__`, `operations/__generated__`. */
async function generatedDirs(): Promise<string[]> {
  const subgraphs = await readdir(join(root, 'subgraphs'), { withFileTypes: true });
  return [...subgraphs.filter((d) => d.isDirectory()).map((d) => `subgraphs/${d.name}/src/__generated__`), 'operations/__generated__'];
}

async function snapshot(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const dir of await generatedDirs()) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const entry of await readdir(abs, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath ?? entry.path, entry.name);
      files.set(relative(root, path), await readFile(path, 'utf8'));
    }
  }
  return files;
}

async function checkCodegen() {
  const before = await snapshot();
  const env = { ...process.env };
  delete env.CODEGEN_ONLY; // a partial run would miss stale subgraphs
  const run = spawnSync(join(root, 'node_modules/.bin/graphql-codegen'), ['--config', 'codegen.ts'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    // Progress goes to stdout, errors to stderr.
    const output = stripVTControlCharacters(run.stderr.trim() || run.stdout.trim() || String(run.error ?? ''));
    fail(`graphql-codegen --config codegen.ts failed (exit ${run.status ?? run.signal}):\n${output}`);
    return;
  }
  const after = await snapshot();
  const reported = new Set<string>();
  for (const [file, content] of after) {
    const old = before.get(file);
    if (old === undefined) fail(`${file} was missing (codegen has now created it)`);
    else if (old !== content) fail(`${file} was stale (codegen has now rewritten it)`);
    else continue;
    reported.add(file);
  }
  for (const file of before.keys()) {
    if (after.has(file)) continue;
    fail(`${file} disappeared when codegen ran`);
    reported.add(file);
  }
  if (reported.size === 0) console.log(`  ok  ${after.size} generated files`);

  // Fresh on disk is not enough for CI: what is committed must be fresh.
  const git = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', ...(await generatedDirs())], { cwd: root, encoding: 'utf8' });
  if (git.status !== 0) return; // not a git checkout (e.g. a Docker build context)
  const uncommitted = git.stdout.split('\n').filter((line) => line && !reported.has(line.slice(3)));
  if (uncommitted.length === 0) return;
  const message = `generated files differ from what is committed:\n${uncommitted.map((l) => `      ${l}`).join('\n')}`;
  if (loadToolConfig().ci) fail(message);
  else console.warn(`  warning: ${message}\n      (fine while you work; CI fails until they are committed)`);
}

console.log('Compositions (supergraph*.yaml -> *.graphql)');
await checkCompositions();
console.log('GraphQL Code Generator (codegen.ts)');
await checkCodegen();

if (problems.length) {
  console.error(`\ncodegen:check failed: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  - ${p}`);
  console.error(
    `\nFix: ${FIX}  (npm run compose, which writes both supergraphs, then npm run codegen),\n` +
      'review the changes and commit them with the schema change that caused them.',
  );
  process.exit(1);
}
console.log('\nAll generated files are fresh.');
