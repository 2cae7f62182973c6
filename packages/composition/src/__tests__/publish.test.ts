import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { supergraphHash } from '../compose.js';
import { SchemaHistory } from '../history.js';
import { publishSubgraph, rollbackSupergraph } from '../publish.js';
import { REPO, copyGraph, editedSchedule, type GraphCopy } from './fixture.js';

function cli(g: GraphCopy, script: string, args: string[]) {
  const f = g.files;
  const run = spawnSync(
    join(REPO, 'node_modules/.bin/tsx'),
    [
      `scripts/${script}.ts`,
      ...args,
      '--config',
      f.config,
      '--supergraph',
      f.supergraph,
      '--api',
      f.apiSchema!,
      '--operations',
      f.operations,
      '--history',
      f.history,
    ],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, REDIS_URL: '', SUPERGRAPH_REDIS_KEY: '' } },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const ROOM: [string, string] = ['type Booking @key(fields: "id") {\n', 'type Booking @key(fields: "id") {\n  "Where in the gym."\n  room: String\n'];
const NO_DATE: [string, string] = ['  date: Date!\n  startTime: Time!', '  startTime: Time!'];

describe('schema:publish and schema:rollback', () => {
  let g: GraphCopy;
  beforeEach(async () => {
    g = await copyGraph();
  });
  afterEach(() => g.dispose());

  it('publishes a safe change, then rolls back to the byte-identical previous supergraph', async () => {
    const before = { supergraph: await g.read(g.files.supergraph), api: await g.read(g.files.apiSchema!), schedule: await g.read(g.scheduleFile) };
    const candidate = await g.candidate('schedule.graphql', await editedSchedule(ROOM));

    const published = cli(g, 'schema-publish', ['schedule', candidate, '--author', 'schedule-team', '--skip-live-check']);
    expect(published.stderr).toBe('');
    expect(published.status).toBe(0);
    expect(published.stdout).toMatch(/Published schedule as version 2 by schedule-team/);
    const after = await g.read(g.files.supergraph);
    expect(after).not.toBe(before.supergraph);
    expect(after).toContain('room: String');
    expect(await g.read(g.files.apiSchema!)).toContain('room: String');
    expect(await g.read(g.scheduleFile)).toBe(await g.read(candidate));

    const entries = await new SchemaHistory(g.files.history).entries();
    expect(entries.map((e) => [e.version, e.kind, e.subgraph])).toEqual([
      [1, 'baseline', undefined],
      [2, 'publish', 'schedule'],
    ]);
    expect(entries[0].hash).toBe(supergraphHash(before.supergraph));
    expect(entries[1]).toMatchObject({
      author: 'schedule-team',
      forced: false,
      hash: supergraphHash(after),
      check: { status: 'safe', breaking: 0, brokenOperations: [] },
    });
    // Stamped when it was published: a real instant, not before the baseline's.
    expect(Date.parse(entries[1].at)).toBeGreaterThanOrEqual(Date.parse(entries[0].at));

    const rolled = cli(g, 'schema-rollback', ['--author', 'on-call']);
    expect(rolled.stderr).toBe('');
    expect(rolled.status).toBe(0);
    expect(rolled.stdout).toMatch(/Rolled back to version 1 \(baseline/);
    expect(await g.read(g.files.supergraph)).toBe(before.supergraph);
    expect(await g.read(g.files.apiSchema!)).toBe(before.api);
    expect(await g.read(g.scheduleFile)).toBe(before.schedule);
    const last = (await new SchemaHistory(g.files.history).entries()).at(-1);
    expect(last).toMatchObject({ version: 3, kind: 'rollback', restoredVersion: 1, author: 'on-call', hash: supergraphHash(before.supergraph) });

    const list = cli(g, 'schema-rollback', ['--list']);
    expect(list.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('refuses a change that breaks a known operation, and publishes it with --force, marked forced', async () => {
    const before = await g.read(g.files.supergraph);
    const candidate = await g.candidate('schedule.graphql', await editedSchedule(NO_DATE));
    const refused = cli(g, 'schema-publish', ['schedule', candidate, '--skip-live-check']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/Not published: it breaks 2 known operation\(s\)/);
    expect(await g.read(g.files.supergraph)).toBe(before);
    expect(await new SchemaHistory(g.files.history).entries()).toEqual([]);

    const forced = await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: candidate, force: true, author: 'a' });
    expect(forced.outcome).toBe('published');
    if (forced.outcome !== 'published') return;
    expect(forced.entry).toMatchObject({ forced: true, check: { status: 'breaks-operations', breaking: 1 } });
    expect(forced.entry.check!.brokenOperations).toContain(`TrainerDashboard (${join('operations', 'TrainerDashboard.graphql')})`);
    const booking = (await g.read(g.files.supergraph)).match(/\ntype Booking\b[^{]*\{[^}]*\}/)?.[0];
    expect(booking).toContain('startTime: Time!');
    expect(booking).not.toContain('  date: Date!');
  });

  it('never publishes what does not compose, even with --force', async () => {
    const before = await g.read(g.files.supergraph);
    const candidate = await g.candidate('schedule.graphql', await editedSchedule(['  date: Date!', '  date: Dat!']));
    const refused = cli(g, 'schema-publish', ['schedule', candidate, '--force', '--skip-live-check']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/does not compose/);
    expect(await g.read(g.files.supergraph)).toBe(before);
  });

  it('rolls back to a named version, and a second rollback goes one further back', async () => {
    const v0 = await g.read(g.files.supergraph);
    const room = await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: await g.candidate('a.graphql', await editedSchedule(ROOM)), author: 'a' });
    const v1 = await g.read(g.files.supergraph);
    const both = (await editedSchedule(ROOM)).replace('  gymId: ID!\n', '  gymId: ID!\n  "Free text."\n  equipment: String\n');
    await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: await g.candidate('b.graphql', both), author: 'a' });
    expect(room.outcome).toBe('published');
    expect((await new SchemaHistory(g.files.history).entries()).map((e) => e.version)).toEqual([1, 2, 3]);

    const toTwo = await rollbackSupergraph(g.files, { author: 'b' });
    expect(toTwo.restored.version).toBe(2);
    expect(await g.read(g.files.supergraph)).toBe(v1);
    const toOne = await rollbackSupergraph(g.files, { author: 'b' });
    expect(toOne.restored.version).toBe(1);
    expect(await g.read(g.files.supergraph)).toBe(v0);
    const toThree = await rollbackSupergraph(g.files, { version: 3, author: 'b' });
    expect(await g.read(g.files.supergraph)).toContain('equipment: String');
    if (toThree.outcome !== 'rolled-back') throw new Error(`rollback to 3 refused: ${toThree.outcome}`);
    expect(toThree.entry.hash).toBe(supergraphHash(await g.read(g.files.supergraph)));
    await expect(rollbackSupergraph(g.files, { version: 42, author: 'b' })).rejects.toThrow(/no version 42/);
    // the snapshot files are checked against their recorded hash
    expect(await readFile(join(g.files.history, '0002.supergraph.graphql'), 'utf8')).toBe(v1);
  });

  it('refuses a rollback to a version that breaks a known operation, and records one forced with --force', async () => {
    const candidate = await g.candidate('no-date.graphql', await editedSchedule(NO_DATE));
    await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: candidate, force: true, author: 'a' });
    const back = await rollbackSupergraph(g.files, { author: 'b' });
    expect(back).toMatchObject({ outcome: 'rolled-back', restored: { version: 1 }, report: { status: 'safe' } });
    const safe = await g.read(g.files.supergraph);

    const refused = await rollbackSupergraph(g.files, { version: 2, author: 'b' });
    expect(refused.outcome).toBe('refused');
    if (refused.outcome !== 'refused') return;
    expect(refused.reason).toMatch(/^version 2 breaks 2 known operation\(s\)/);
    expect(refused.report.brokenOperations.map((o) => [o.name, o.changes])).toEqual([
      ['ClientDashboard', ['Booking.date']],
      ['TrainerDashboard', ['Booking.date']],
    ]);
    expect(await g.read(g.files.supergraph)).toBe(safe);
    expect((await new SchemaHistory(g.files.history).entries()).map((e) => e.version)).toEqual([1, 2, 3]);

    const forced = await rollbackSupergraph(g.files, { version: 2, force: true, author: 'b' });
    expect(forced).toMatchObject({ outcome: 'rolled-back', entry: { version: 4, restoredVersion: 2, forced: true, check: { status: 'breaks-operations' } } });
    const booking = (await g.read(g.files.supergraph)).match(/\ntype Booking\b[^{]*\{[^}]*\}/)?.[0];
    expect(booking).toContain('startTime: Time!');
    expect(booking).not.toContain('  date: Date!');
  });
});
