// schema:publish keeps the compositions beside supergraph.yaml in step (supergraph.docker.yaml,
// written to supergraph.docker.graphql). A candidate that supergraph.yaml takes and the sibling
// does not is refused before anything is written: never the supergraph and the subgraph's
// schema written, then a stop at the sibling.
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, copyGraph, type GraphCopy } from '../packages/composition/src/__tests__/fixture.js';

const run = promisify(execFile);

/** A field without @liveTopic, served by schedule itself: supergraph.yaml says so (`subscriptions: ws`), the sibling does not. */
const ROOM_FREED = ['type Subscription {\n', 'type Subscription {\n  "A room became free (schedule serves this itself)."\n  roomFreed: ID\n'] as const;

describe('schema:publish and the sibling composition', () => {
  let g: GraphCopy;
  const publish = async (args: string[]) => {
    const f = g.files;
    const files = ['--config', f.config, '--supergraph', f.supergraph, '--api', f.apiSchema!, '--operations', f.operations, '--history', f.history];
    try {
      const { stdout, stderr } = await run(join(REPO, 'node_modules/.bin/tsx'), ['scripts/schema-publish.ts', ...args, ...files], {
        cwd: REPO,
        env: { ...process.env, REDIS_URL: '', SUPERGRAPH_REDIS_KEY: '', SCHEMA_AUTHOR: 'ci' },
        encoding: 'utf8',
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  /** Everything a publish may write. */
  const written = async () =>
    Object.fromEntries(
      await Promise.all(
        ['supergraph.graphql', 'api-schema.graphql', 'supergraph.docker.graphql', 'subgraphs/schedule/schema.graphql', '.schema-history'].map(
          async (name) => [name, await readFile(join(g.dir, name), 'utf8').catch(() => null)] as const,
        ),
      ),
    );

  beforeAll(async () => {
    g = await copyGraph();
    await cp(join(REPO, 'supergraph.docker.yaml'), join(g.dir, 'supergraph.docker.yaml'));
    await cp(join(REPO, 'supergraph.docker.graphql'), join(g.dir, 'supergraph.docker.graphql'));
    const config = await readFile(g.files.config, 'utf8');
    const marked = config.replace(/(\n {2}schedule:\n)/, '$1    subscriptions: ws\n');
    expect(marked).not.toBe(config);
    await writeFile(g.files.config, marked);
  });
  afterAll(async () => {
    await g?.dispose();
  });

  it('refuses, before writing anything, a candidate the sibling composition would not take', async () => {
    const schedule = await readFile(g.scheduleFile, 'utf8');
    expect(schedule).toContain(ROOM_FREED[0]);
    const candidate = await g.candidate('schedule-room-freed.graphql', schedule.replace(ROOM_FREED[0], ROOM_FREED[1]));
    const before = await written();

    const refused = await publish(['schedule', candidate, '--skip-live-check']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('supergraph.docker.yaml would no longer compose');
    expect(refused.stderr).toContain('LIVE_SUBSCRIPTION_UNSERVED');
    expect(await written()).toEqual(before);

    // Positive control: the sibling in step (the same entry), the same candidate is published, both compositions written.
    const docker = await readFile(join(g.dir, 'supergraph.docker.yaml'), 'utf8');
    await writeFile(join(g.dir, 'supergraph.docker.yaml'), docker.replace(/(\n {2}schedule:\n)/, '$1    subscriptions: ws\n'));
    const published = await publish(['schedule', candidate, '--skip-live-check']);
    expect(published.code, published.stderr).toBe(0);
    const after = await written();
    expect(after['supergraph.graphql']).toContain('roomFreed');
    expect(after['supergraph.docker.graphql']).toContain('roomFreed');
    expect(after['subgraphs/schedule/schema.graphql']).toContain('roomFreed');
  }, 180_000);
});
