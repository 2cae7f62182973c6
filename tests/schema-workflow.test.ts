// schema:publish and schema:rollback against running subgraphs: a publish is compared
// with what the schedule subgraph serves at its URL (deploy first, then publish), and the
// issue's sequence (publish v2, v3 --force, rollback, rollback, publish v6, rollback)
// ends on the version served before v6, with the dashboards still valid. The commands run
// as child processes, with SUPERGRAPH_REDIS_KEY on the real Redis when REDIS_URL is set.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SchemaHistory, apiSchemaOf, loadKnownOperations, supergraphHash } from '@fitsync/composition';
import { startSubgraph, type RunningSubgraph } from '@fitsync/service-kit';
import { TEST_SERVICE_SECRET, openTestDatabase, redisUrlForTests, testClock, testConfig } from '@fitsync/service-kit/testing';
import { parse, specifiedRules, validate } from 'graphql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, copyGraph, editedSchedule, type GraphCopy } from '../packages/composition/src/__tests__/fixture.js';
import { scheduleSubgraph } from '../subgraphs/schedule/src/server.js';

const run = promisify(execFile);
const { clock } = testClock();
const redisUrl = redisUrlForTests();

const ROOM: [string, string] = ['type Booking @key(fields: "id") {\n', 'type Booking @key(fields: "id") {\n  "Where in the gym."\n  room: String\n'];
const NO_DATE: [string, string] = ['  date: Date!\n  startTime: Time!', '  startTime: Time!'];

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

// Each command is a process that loads composition: seconds apiece on a busy machine.
const SLOW = 180_000;
const where: 'file' | 'redis' = redisUrl ? 'redis' : 'file';

describe(`schema workflow against running subgraphs (supergraph served from the ${where})`, () => {
  let g: GraphCopy;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const running: RunningSubgraph[] = [];
  const key = `test-supergraph-${randomBytes(4).toString('hex')}`;
  let redis: Redis | undefined;
  let roomSdl: string;
  let noDateSdl: string;

  /** A schedule deployment serving `sdl` (its resolvers as they are; a new field resolves to null). */
  const deploy = async (sdl?: string) => {
    const def = sdl ? { ...scheduleSubgraph, typeDefs: parse(sdl) } : scheduleSubgraph;
    const s = await startSubgraph(def, testConfig('schedule'), { db: db.db, clock });
    running.push(s);
    return s;
  };
  const stop = async (s: RunningSubgraph) => {
    running.splice(running.indexOf(s), 1);
    await s.close();
  };

  /**
   * scripts/<script>.ts args on the copy, asking schedule at `scheduleUrl`; `viaNpm` runs it as
   * the README does, `npm run -s schema:publish -- ...` (stdout must still be the JSON alone).
   */
  const cli = async (
    script: string,
    args: string[],
    scheduleUrl = 'http://127.0.0.1:9/graphql',
    extraEnv: Record<string, string> = {},
    viaNpm = false,
  ): Promise<Cli> => {
    const f = g.files;
    const env = {
      ...process.env,
      SCHEDULE_URL: scheduleUrl,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      REDIS_URL: where === 'redis' ? redisUrl : '',
      SUPERGRAPH_REDIS_KEY: where === 'redis' ? key : '',
      SCHEMA_AUTHOR: 'ci',
      ...extraEnv,
    };
    const files = ['--config', f.config, '--supergraph', f.supergraph, '--api', f.apiSchema!, '--operations', f.operations, '--history', f.history];
    try {
      const [cmd, cmdArgs] = viaNpm
        ? ['npm', ['run', '-s', script.replace('-', ':'), '--', ...args, ...files]]
        : [join(REPO, 'node_modules/.bin/tsx'), [`scripts/${script}.ts`, ...args, ...files]];
      const { stdout, stderr } = await run(cmd, cmdArgs, { cwd: REPO, env, encoding: 'utf8' });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const json = (r: Cli) => JSON.parse(r.stdout) as Record<string, any>;
  /** What the gateways are handed: the Redis key, or the file. */
  const served = async () => (redis ? ((await redis.get(key)) ?? '') : await g.read(g.files.supergraph));
  const dashboardErrors = async (supergraphSdl: string) => {
    const schema = apiSchemaOf(supergraphSdl);
    const ops = (await loadKnownOperations(g.files.operations)).filter((o) => /Dashboard/.test(o.name));
    expect(ops.map((o) => o.name).sort()).toEqual(['ClientDashboard', 'TrainerDashboard']);
    return ops.flatMap((o) => validate(schema, o.document, specifiedRules).map((e) => `${o.name}: ${e.message}`));
  };

  beforeAll(async () => {
    g = await copyGraph();
    db = await openTestDatabase('schedule', scheduleSubgraph.migrationsDir, 'pglite');
    if (where === 'redis') {
      redis = new Redis(redisUrl!);
      await redis.set(key, await g.read(g.files.supergraph));
    }
    roomSdl = await editedSchedule(ROOM);
    noDateSdl = (await editedSchedule(ROOM)).replace(NO_DATE[0], NO_DATE[1]);
  });
  afterAll(async () => {
    for (const s of [...running]) await s.close();
    await db?.dispose();
    if (redis) {
      await redis.del(key);
      redis.disconnect();
    }
    await g?.dispose();
  });

  it(
    'refuses a publish ahead of its subgraph, naming what it does not serve, and publishes once the subgraph serves it',
    async () => {
      const before = await g.read(g.files.supergraph);
      const candidate = await g.candidate('room.graphql', roomSdl);

      // Today's schedule is running: it does not know Booking.room.
      const old = await deploy();
      const ahead = await cli('schema-publish', ['schedule', candidate, '--json'], old.url);
      expect(ahead.code).toBe(3);
      expect(ahead.stderr).toMatch(/Not published: schedule at http:\/\/127\.0\.0\.1:\d+\/graphql does not serve Booking\.room yet; deploy the subgraph first/);
      const refusal = json(ahead);
      expect(refusal).toMatchObject({ outcome: 'refused', live: { status: 'missing', url: old.url, missing: ['Booking.room'], added: ['Booking.room'] } });
      expect(refusal.report.status).toBe('safe');
      expect(await g.read(g.files.supergraph)).toBe(before);
      expect(await served()).toBe(before);
      expect(await new SchemaHistory(g.files.history).entries()).toEqual([]);

      // Down: said so, and refused too.
      await stop(old);
      const down = await cli('schema-publish', ['schedule', candidate], old.url);
      expect(down.code).toBe(3);
      expect(down.stderr).toMatch(/schedule at http:\/\/127\.0\.0\.1:\d+\/graphql cannot be asked what it serves \(connection refused/);
      expect(await g.read(g.files.supergraph)).toBe(before);

      // A subgraph that answers without our credential would not be FitSync's: a wrong secret is refused, not skipped.
      const deployed = await deploy(roomSdl);
      const wrongSecret = await cli('schema-publish', ['schedule', candidate], deployed.url, { SERVICE_SECRET: 'not-the-deployment-secret-0123' });
      expect(wrongSecret.code).toBe(3);
      expect(wrongSecret.stderr).toMatch(/cannot be asked what it serves \(HTTP 401: Invalid service credential\)/);
      expect(await g.read(g.files.supergraph)).toBe(before);

      // Deployed first: the same publish goes through (version 2, after the baseline).
      const published = await cli('schema-publish', ['schedule', candidate, '--json'], deployed.url, {}, true);
      expect(published.stderr).toMatch(/already serves every field of the candidate schema/);
      expect(published.code).toBe(0);
      expect(json(published)).toMatchObject({ outcome: 'published', entry: { version: 2, forced: false, live: { status: 'served' } } });
      expect(await served()).toContain('room: String');
    },
    SLOW,
  );

  it(
    'ends the issue’s sequence (v2, v3 forced, rollback, rollback, v6, rollback) on the version served before v6, with the dashboards valid',
    async () => {
      const schedule = running[0];
      const history = new SchemaHistory(g.files.history);
      const v1 = (await history.read((await history.entries())[0])).supergraphSdl;
      const v2 = await g.read(g.files.supergraph);

      // v3 removes Booking.date: it breaks both dashboards, so only --force publishes it.
      const noDate = await g.candidate('no-date.graphql', noDateSdl);
      const v3 = await cli('schema-publish', ['schedule', noDate, '--force', '--json'], schedule.url);
      expect(json(v3)).toMatchObject({ outcome: 'published', entry: { version: 3, forced: true } });
      expect(await dashboardErrors(await served())).not.toEqual([]);

      const r4 = await cli('schema-rollback', ['--json'], schedule.url);
      expect(r4.code).toBe(0);
      expect(json(r4)).toMatchObject({ outcome: 'rolled-back', restored: { version: 2 }, entry: { version: 4, restoredVersion: 2 } });
      expect(await served()).toBe(v2);
      const r5 = await cli('schema-rollback', ['--json'], schedule.url);
      expect(json(r5)).toMatchObject({ restored: { version: 1, kind: 'baseline' }, entry: { version: 5 } });
      expect(await served()).toBe(v1);

      const v6 = await cli('schema-publish', ['schedule', await g.candidate('room-again.graphql', roomSdl), '--json'], schedule.url);
      expect(json(v6)).toMatchObject({ outcome: 'published', entry: { version: 6, forced: false } });
      expect(await served()).toBe(v2);

      // The version served before v6 is v5 (the baseline's supergraph), not v3, the undone breaking one.
      const r7 = await cli('schema-rollback', [], schedule.url);
      expect(r7.stderr).toBe('');
      expect(r7.code).toBe(0);
      expect(r7.stdout).toMatch(/Rolled back to version 5 \(rollback, serving version 1 \(baseline\)/);
      expect(r7.stdout).toMatch(/✔ no known operation breaks/);
      expect(await served()).toBe(v1);
      expect(await g.read(g.files.supergraph)).toBe(v1);
      expect(await dashboardErrors(await served())).toEqual([]);
      expect((await history.entries()).at(-1)).toMatchObject({ version: 7, kind: 'rollback', restoredVersion: 5, hash: supergraphHash(v1), forced: false });

      // Nothing was served before the baseline: a further bare rollback says so and changes nothing.
      const none = await cli('schema-rollback', [], schedule.url);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no earlier version to roll back to: version 7 serves version 1 \(baseline\)/);

      // Naming the breaking version runs the same check as a publish: refused, unless --force.
      const toThree = await cli('schema-rollback', ['3'], schedule.url);
      expect(toThree.code).toBe(1);
      expect(toThree.stderr).toMatch(/Not rolled back: version 3 breaks 2 known operation\(s\)/);
      expect(toThree.stderr).toMatch(/TrainerDashboard \(operations\/TrainerDashboard\.graphql\) by Booking\.date/);
      expect(await served()).toBe(v1);
      expect((await history.entries()).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      // --list marks the version being served (checked against what the gateways are handed).
      const list = await cli('schema-rollback', ['--list'], schedule.url);
      expect(list.stderr).toBe('');
      const lines = list.stdout.trim().split('\n');
      expect(lines).toHaveLength(7);
      expect(lines.filter((l) => l.startsWith('*'))).toEqual([expect.stringMatching(/^\*\s+7 .*rollback to 5, serving version 1 \(baseline\) {3}<- serving$/)]);
    },
    SLOW,
  );
});
