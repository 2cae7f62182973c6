// package.json's `allowScripts` (npm 11.16+) held to the lockfile. npm 11 runs every install
// script and warns about the ones no entry covers; npm 12 runs only the approved ones. Each
// package that has one is decided here, with the reason, so an install runs what we reviewed
// on either npm, and a new dependency with an install script fails this test rather than
// being silently skipped (or run unreviewed) on someone's machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as unknown;

const manifest = read('package.json') as { allowScripts?: Record<string, boolean> };
const lock = read('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean; link?: boolean }> };

/** Why each entry of `allowScripts` says what it says. */
const REVIEWED: Record<string, { allow: boolean; why: string }> = {
  // install.js checks that the platform's binary (@esbuild/<platform>, an optional dependency)
  // is the right version and links it in for speed; tsx runs every service and test through it.
  esbuild: { allow: true, why: 'verifies its platform binary' },
  // Both postinstalls only print a warning when a dependent declares an old version scheme
  // (and @apollo/protobufjs makes an empty folder for its pbjs CLI, which nothing here runs).
  protobufjs: { allow: false, why: 'a version-scheme warning only' },
  '@apollo/protobufjs': { allow: false, why: 'a version-scheme warning only; its CLI is unused' },
};

const packageName = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
const withScripts = [
  ...new Set(
    Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript && !p.link)
      .map(([path]) => packageName(path)),
  ),
].sort();

describe('install scripts', () => {
  it('the lockfile has packages with install scripts (the check below checks something)', () => {
    expect(withScripts).toContain('esbuild');
  });

  it('every package in the lockfile with an install script has an allowScripts entry, and no entry names a package without one', () => {
    const entries = Object.keys(manifest.allowScripts ?? {}).sort();
    expect(entries).toEqual(withScripts);
  });

  it('each entry is the reviewed decision, and each decision is reviewed', () => {
    expect(manifest.allowScripts).toEqual(Object.fromEntries(Object.entries(REVIEWED).map(([name, r]) => [name, r.allow])));
  });
});
