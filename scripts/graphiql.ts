// The gateway's GraphiQL bundle (gateway/graphiql/dist), built by Vite from gateway/graphiql:
//   npm run graphiql:build            build it
//   tsx scripts/graphiql.ts ensure    build it unless it is there and up to date
// `npm install` / `npm ci` run `ensure` (postinstall), as do `npm start` and the browser test,
// so a fresh clone serves GraphiQL without a step of its own; the Dockerfile builds it after
// copying the sources.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'gateway', 'graphiql');
const DIST = join(SOURCE, 'dist');
const FINGERPRINT = join(DIST, '.fingerprint');
/** The packages whose code ends up in the bundle, or that make it. */
const PACKAGES = [
  'graphiql',
  '@graphiql/react',
  '@graphiql/plugin-explorer',
  '@graphiql/toolkit',
  'monaco-editor',
  'monaco-graphql',
  'react',
  'react-dom',
  'graphql',
  'graphql-ws',
  'vite',
];

function sourceFiles(dir = SOURCE): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !(dir === SOURCE && e.name === 'dist'))
    .flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** What the bundle is made of: its sources and the versions of the packages it bundles. */
export function graphiqlFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) hash.update(relative(SOURCE, file)).update('\0').update(readFileSync(file)).update('\0');
  const require = createRequire(join(SOURCE, 'main.tsx'));
  for (const name of PACKAGES) {
    let version = 'missing';
    try {
      version = (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
    } catch {
      // A package without an exported package.json: its name alone.
    }
    hash.update(`${name}@${version}\0`);
  }
  return hash.digest('hex');
}

/** Whether dist/ holds a bundle built from the sources and packages as they are now. */
export function graphiqlIsFresh(): boolean {
  return existsSync(join(DIST, 'index.html')) && existsSync(FINGERPRINT) && readFileSync(FINGERPRINT, 'utf8') === graphiqlFingerprint();
}

export async function buildGraphiQL(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(SOURCE, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(FINGERPRINT, graphiqlFingerprint());
}

/** Builds the bundle unless it is fresh; says which it did. */
export async function ensureGraphiQL(say: (msg: string) => void = () => undefined): Promise<'fresh' | 'built'> {
  if (graphiqlIsFresh()) return 'fresh';
  say('building GraphiQL (gateway/graphiql/dist)');
  await buildGraphiQL();
  return 'built';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[2] ?? 'build';
  const run =
    mode === 'ensure'
      ? ensureGraphiQL((m) => console.log(m))
      : mode === 'build'
        ? buildGraphiQL()
        : Promise.reject(new Error(`unknown mode ${mode}: build or ensure`));
  run.then(
    () => undefined,
    (err: unknown) => {
      console.error('graphiql:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
