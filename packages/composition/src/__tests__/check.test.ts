import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../publish.js';
import { REPO, copyGraph, editedSchedule, type GraphCopy } from './fixture.js';

/** `npm run schema:check` as CI runs it, on the copy. */
function checkCli(g: GraphCopy, args: string[]) {
  const run = spawnSync(
    join(REPO, 'node_modules/.bin/tsx'),
    ['scripts/schema-check.ts', ...args, '--config', g.files.config, '--supergraph', g.files.supergraph, '--operations', g.files.operations],
    { cwd: REPO, encoding: 'utf8' },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('schema:check', () => {
  let g: GraphCopy;
  beforeEach(async () => {
    g = await copyGraph();
  });
  afterEach(() => g.dispose());

  it('reports a removed field as breaking, with the dashboard operation it breaks, and exits 1', async () => {
    const file = await g.candidate('schedule.graphql', await editedSchedule(['  date: Date!\n  startTime: Time!', '  startTime: Time!']));
    const cli = checkCli(g, ['schedule', file, '--json']);
    expect(cli.status).toBe(1);
    const report = JSON.parse(cli.stdout);
    expect(report.status).toBe('breaks-operations');
    const removed = report.changes.find((c: { path: string }) => c.path === 'Booking.date');
    expect(removed).toMatchObject({ level: 'breaking', type: 'FIELD_REMOVED' });
    expect(removed.breaks).toContain(`TrainerDashboard (${join('operations', 'TrainerDashboard.graphql')})`);
    const broken = report.brokenOperations.find((o: { name: string }) => o.name === 'TrainerDashboard');
    expect(broken).toMatchObject({ source: join('operations', 'TrainerDashboard.graphql'), changes: ['Booking.date'] });
    expect(broken.errors).toContain('Cannot query field "date" on type "Booking".');
  });

  it('passes a safe addition with exit 0 and lists it as safe', async () => {
    const file = await g.candidate(
      'schedule.graphql',
      await editedSchedule(['type Booking @key(fields: "id") {\n', 'type Booking @key(fields: "id") {\n  "Where in the gym."\n  room: String\n']),
    );
    const cli = checkCli(g, ['schedule', file]);
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/change\(s\) to the API schema: 0 breaking, 0 dangerous, \d+ safe/);
    expect(cli.stdout).toMatch(/safe\s+Field 'room' was added to object type 'Booking' \[Booking\.room\]/);
    expect(cli.stdout).toContain('2 known operation(s) checked');
  });

  it('reports a composition error with its subgraph, code and location, and exits 2', async () => {
    const sdl = await editedSchedule(['  date: Date!', '  date: Dat!']);
    const line = sdl.split('\n').findIndex((l) => l === '  date: Dat!') + 1;
    const file = await g.candidate('schedule.graphql', sdl);
    const json = checkCli(g, ['schedule', file, '--json']);
    expect(json.status).toBe(2);
    const report = JSON.parse(json.stdout);
    expect(report.status).toBe('composition-failed');
    expect(report.problems).toEqual([
      expect.objectContaining({
        subgraph: 'schedule',
        code: 'INVALID_GRAPHQL',
        message: 'Unknown type Dat',
        locations: [{ subgraph: 'schedule', line, column: 9 }],
      }),
    ]);
    const text = checkCli(g, ['schedule', file]);
    expect(text.status).toBe(2);
    expect(text.stderr).toContain('[schedule] INVALID_GRAPHQL: Unknown type Dat');
    expect(text.stderr).toContain(`at ${file}:${line}:9`);
  });

  it('refuses (exit 2) a Subscription field without @liveTopic from a subgraph the config does not say serves subscriptions, and checks it as upstream where it does', async () => {
    const field = '  "Reminders of the caller\'s bookings."\n  bookingReminder: BookingEvent!\n';
    const sdl = await editedSchedule(['type Subscription {\n', `type Subscription {\n${field}`]);
    const line = sdl.split('\n').findIndex((l) => l.startsWith('  bookingReminder: BookingEvent!')) + 1;
    // Nothing would feed it: no broker topic, and schedule serves no subscriptions of its own.
    const file = await g.candidate('schedule-upstream.graphql', sdl);
    const cli = checkCli(g, ['schedule', file]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('[schedule] LIVE_SUBSCRIPTION_UNSERVED: Subscription.bookingReminder: nothing feeds it');
    expect(cli.stderr).toContain('add `subscriptions: ws` (or `sse`) under schedule in supergraph.yaml');
    expect(cli.stderr).toContain(`schedule-upstream.graphql:${line}:3`);

    // The config says schedule serves its own (over graphql-ws): an upstream field, a safe addition.
    const config = await g.read(g.files.config);
    await writeFile(
      g.files.config,
      config.replace('      file: ./subgraphs/schedule/schema.graphql\n', '      file: ./subgraphs/schedule/schema.graphql\n    subscriptions: ws\n'),
    );
    const upstream = await runCheck(g.files, 'schedule', file);
    expect(upstream.subgraphs.find((s) => s.name === 'schedule')?.subscriptions).toBe('ws');
    expect(upstream.report.problems).toEqual([]);
    expect(upstream.report.exitCode).toBe(0);
    expect(upstream.report.supergraphSdl).toContain('bookingReminder: BookingEvent! @join__field(graph: SCHEDULE)\n');

    const invalid = sdl.replace('bookingReminder: BookingEvent!', 'bookingReminder: BookingEvent! @liveTopic(name: "bookingReminder", recipients: [])');
    const { report } = await runCheck(g.files, 'schedule', await g.candidate('schedule-invalid.graphql', invalid));
    expect(report.exitCode).toBe(2);
    expect(report.status).toBe('composition-failed');
    expect(report.problems).toEqual([
      {
        subgraph: 'schedule',
        code: 'LIVE_TOPIC_INVALID',
        message: expect.stringContaining('Subscription.bookingReminder: @liveTopic(recipients:) must name at least one payload field'),
        locations: [{ subgraph: 'schedule', line, column: 3 }],
      },
    ]);

    // The same field declared composes and checks as a safe addition.
    const declared = sdl.replace(
      'bookingReminder: BookingEvent!',
      'bookingReminder: BookingEvent! @liveTopic(name: "bookingReminder", recipients: ["client_id"])',
    );
    const ok = await runCheck(g.files, 'schedule', await g.candidate('schedule-declared.graphql', declared));
    expect(ok.report.problems).toEqual([]);
    expect(ok.report.exitCode).toBe(0);
    expect(ok.report.supergraphSdl).toContain(
      'bookingReminder: BookingEvent! @join__field(graph: SCHEDULE) @liveTopic(name: "bookingReminder", recipients: ["client_id"])',
    );
  });

  it('reports a federation error between two subgraphs with a location in each', async () => {
    // training owns Program.name (String!); a second, unshareable definition does not compose.
    const sdl = await editedSchedule(['type Program @key(fields: "id") {\n  id: ID!\n', 'type Program @key(fields: "id") {\n  id: ID!\n  name: Int\n']);
    const line = sdl.split('\n').indexOf('  name: Int') + 1;
    const { report } = await runCheck(g.files, 'schedule', await g.candidate('schedule.graphql', sdl));
    expect(report.exitCode).toBe(2);
    expect(report.problems.length).toBeGreaterThan(0);
    const sharing = report.problems.find((p) => p.code === 'INVALID_FIELD_SHARING');
    expect(sharing?.message).toMatch(/Program\.name/);
    expect(sharing?.locations).toContainEqual({ subgraph: 'schedule', line, column: 3 });
    expect(sharing?.locations.some((l) => l.subgraph === 'training')).toBe(true);
  });

  it('checks registered trusted documents: a manifest entry broken by a type change is reported', async () => {
    await mkdir(join(g.files.operations, 'trusted'));
    await writeFile(
      join(g.files.operations, 'trusted', 'mobile.json'),
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [
          { id: 'b1', name: 'BookingNotes', type: 'query', body: 'query BookingNotes($id: ID!) { booking(id: $id) { id notes durationMinutes } }' },
          { id: 'b2', name: 'BookingTimes', type: 'query', body: 'query BookingTimes($id: ID!) { booking(id: $id) { id startTime } }' },
        ],
      }),
    );
    const file = await g.candidate('schedule.graphql', await editedSchedule(['  durationMinutes: Int!', '  durationMinutes: Float!']));
    const { report } = await runCheck(g.files, 'schedule', file);
    expect(report.exitCode).toBe(1);
    expect(report.operationsChecked).toBe(4);
    expect(report.changes).toContainEqual(expect.objectContaining({ level: 'breaking', type: 'FIELD_TYPE_CHANGED', path: 'Booking.durationMinutes' }));
    // It still validates, but reads a field whose type changed.
    expect(report.brokenOperations).toEqual([
      { name: 'BookingNotes', source: expect.stringMatching(/mobile\.json#b1$/), errors: [], changes: ['Booking.durationMinutes'] },
    ]);
  });

  it('fails on a registered document that does not validate, even when this change did not break it', async () => {
    await mkdir(join(g.files.operations, 'trusted'));
    await writeFile(join(g.files.operations, 'trusted', 'Old.graphql'), 'query OldBooking($id: ID!) { booking(id: $id) { id room } }');
    const { report } = await runCheck(g.files, 'schedule');
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([]);
    expect(report.brokenOperations).toEqual([
      {
        name: 'OldBooking',
        source: join('operations', 'trusted', 'Old.graphql'),
        errors: ['Cannot query field "room" on type "Booking".'],
        changes: [],
        brokenBefore: true,
      },
    ]);
  });

  it('refuses an unknown subgraph with exit 2', async () => {
    const cli = checkCli(g, ['billing']);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/UNKNOWN_SUBGRAPH: no subgraph "billing"/);
  });
});
