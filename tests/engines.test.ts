// package.json's `engines` held to what is really installed: every package in the lockfile
// must admit the oldest Node we claim, the Dockerfile's image must be a Node we claim, and the
// README must state the same floor. A dependency that raises its floor fails this test, not a
// user on an older Node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const manifest = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: unknown }>;
};
const claimed = manifest.engines.node;
const floor = semver.minVersion(claimed)!.version;

/**
 * Packages whose declared `engines.node` leaves out Node 20 although they run on it, and
 * what shows that they do. Each is exercised on Node 20 by `.ci/run` (which runs on Node 20).
 */
const RUN_ON_NODE_20: Record<string, string> = {
  // @apollo/server -> @graphql-tools/schema 10.1 -> @graphql-tools/utils 12. 2.x declares
  // >=22.15 but feature-detects what it would use of 22 (`Promise.withResolvers`, with a
  // fallback); every gateway and subgraph test runs through it.
  '@whatwg-node/promise-helpers': 'runtime, feature-detected',
  // The rest come only with dev tools: GraphQL Code Generator's CLI and loaders (the codegen
  // drift check in .ci/run) and Hive Gateway (the bench's peer gateway).
  '@whatwg-node/disposablestack': 'codegen loaders, Hive Gateway',
  '@whatwg-node/fetch': 'codegen loaders',
  '@whatwg-node/node-fetch': 'codegen loaders',
  listr2: 'codegen CLI',
  'sync-fetch': 'codegen loaders',
};

const packageName = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

const installed = Object.entries(lock.packages)
  .filter(([path]) => path.includes('node_modules/'))
  .map(([path, meta]) => ({ path, name: packageName(path), ...meta }));

describe('engines', () => {
  it('claims a Node range with a floor and a ceiling, and this Node is in it', () => {
    expect(semver.validRange(claimed)).not.toBeNull();
    expect(semver.satisfies(process.versions.node, claimed)).toBe(true);
    expect(semver.satisfies('23.0.0', claimed)).toBe(false);
  });

  it('every installed package admits the oldest Node the project claims', () => {
    const refusing = installed
      .filter((p) => typeof p.engines === 'object' && p.engines !== null && 'node' in p.engines)
      .filter((p) => !(p.name in RUN_ON_NODE_20))
      .filter((p) => {
        const range = (p.engines as { node: unknown }).node;
        if (typeof range !== 'string' || semver.validRange(range) === null) return false;
        return !semver.satisfies(floor, range);
      })
      .map((p) => `${p.name}@${p.version} wants ${(p.engines as { node: string }).node}${p.dev ? ' (dev)' : ''}`);
    expect(refusing).toEqual([]);
  });

  it('the floor is no lower than it must be: some package needs it', () => {
    // Otherwise the claim could be lowered; an honest floor is the tightest one.
    const below = `${semver.major(floor)}.${Math.max(semver.minor(floor) - 1, 0)}.0`;
    expect(semver.lt(below, floor)).toBe(true);
    const needing = installed.filter((p) => {
      if (p.name in RUN_ON_NODE_20) return false;
      const range = (p.engines as { node?: unknown } | undefined)?.node;
      return typeof range === 'string' && semver.validRange(range) !== null && !semver.satisfies(below, range);
    });
    expect(needing.length).toBeGreaterThan(0);
  });

  it('each exception is still installed and still needs excusing', () => {
    for (const name of Object.keys(RUN_ON_NODE_20)) {
      const copies = installed.filter((p) => p.name === name);
      expect(copies.length, name).toBeGreaterThan(0);
      const excused = copies.filter((p) => {
        const range = (p.engines as { node?: unknown } | undefined)?.node;
        return typeof range === 'string' && !semver.satisfies(floor, range);
      });
      expect(excused.length, `${name} admits ${floor} now: drop it from RUN_ON_NODE_20`).toBeGreaterThan(0);
    }
  });

  it("the Docker image's Node and the README's agree with the claim", () => {
    const from = read('Dockerfile')
      .split('\n')
      .find((l) => l.startsWith('FROM '))!;
    const major = Number(/node:(\d+)/.exec(from)![1]);
    expect(semver.intersects(`${major}.x`, claimed)).toBe(true);
    let ceiling = semver.major(floor) + 1;
    while (semver.satisfies(`${ceiling}.0.0`, claimed)) ceiling++;
    expect(read('README.md')).toContain(`Node ${semver.major(floor)}.${semver.minor(floor)} or newer (below ${ceiling})`);
  });
});
