import { randomUUID } from 'node:crypto';
import { addDays } from '@fitsync/service-kit/clock';
import { callSubgraph, openTestDatabase, storageBackends, testClock, testConfig, testToken } from '@fitsync/service-kit/testing';
import type { RunningSubgraph as Running } from '@fitsync/service-kit';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressSubgraph, seedProgress, startProgress } from '../server.js';

// The gym is built around the same pinned "today" the subgraph reads: the last day of a
// month and a Sunday, so the summary's month and week boundaries are the awkward ones.
const { clock, today } = testClock('beforeMidnight');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const clients = gym.users.filter((u) => u.role === 'CLIENT');
const otherClient = clients.find((c) => c.id !== client.id)!;
const strangerTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
const trainerIdsOf = (clientId: string) => [...new Set(gym.programs.filter((p) => p.clientId === clientId).map((p) => p.trainerId))];
const MISSING = '00000000-0000-4000-8000-000000000000';

// Extra rows the demo gym lacks, so every branch of the summary has data: a streak
// with a gap for `otherClient` (logs without a booking), a newer body-fat-only
// measurement for the demo client, and an achieved goal.
const extraLogs = [7, 14, 21, 35, 42].map((daysAgo) => ({ id: randomUUID(), clientId: otherClient.id, workoutDate: addDays(today, -daysAgo) }));
const fatOnly = { id: randomUUID(), clientId: client.id, recordedAt: clock(), bodyFatPercentage: 19.5 };
const achievedGoal = { id: randomUUID(), clientId: client.id, status: 'ACHIEVED' };

// ---------- the summary, computed here from the seeded data, independently of the SQL ----------

const DAY = 86_400_000;
const weekStart = (date: string) => {
  const isoDow = ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
  return addDays(date, 1 - isoDow);
};
const round1 = (n: number) => Math.round(n * 10) / 10;

function expectedSummary(clientId: string) {
  const metrics = [
    ...gym.bodyMetrics.filter((m) => m.clientId === clientId).map((m) => ({ at: m.recordedAt.getTime(), weight: m.weightKg, fat: m.bodyFatPercentage })),
    ...(fatOnly.clientId === clientId ? [{ at: fatOnly.recordedAt.getTime(), weight: null, fat: fatOnly.bodyFatPercentage }] : []),
  ].sort((a, b) => b.at - a.at);
  const weights = metrics.filter((m) => m.weight !== null);
  const latest = weights[0];
  const earlier = latest && weights.find((m) => latest.at - m.at >= 30 * DAY);
  const dates = [
    ...gym.workoutLogs.filter((l) => l.clientId === clientId).map((l) => l.workoutDate),
    ...extraLogs.filter((l) => l.clientId === clientId).map((l) => l.workoutDate),
  ].sort();
  const weeks = new Set(dates.filter((d) => d <= today).map(weekStart));
  let week = weeks.has(weekStart(today)) ? weekStart(today) : addDays(weekStart(today), -7);
  let streak = 0;
  while (weeks.has(week)) {
    streak++;
    week = addDays(week, -7);
  }
  return {
    latestWeightKg: latest?.weight ?? null,
    weightChange30dKg: latest && earlier ? round1(latest.weight - earlier.weight) : null,
    latestBodyFatPercentage: metrics[0]?.fat ?? null,
    workoutsThisMonth: dates.filter((d) => d.slice(0, 7) === today.slice(0, 7)).length,
    currentStreakWeeks: streak,
    totalWorkouts: dates.length,
    lastWorkoutDate: dates.at(-1) ?? null,
    activeGoals: gym.goals.filter((g) => g.clientId === clientId && g.status === 'ACTIVE').length,
  };
}

const SUMMARY_FIELDS =
  'latestWeightKg weightChange30dKg latestBodyFatPercentage workoutsThisMonth currentStreakWeeks totalWorkouts lastWorkoutDate activeGoals';
const ENTITIES = (selection: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`;
const userRep = (id: string, trainerIds = trainerIdsOf(id)) => ({ __typename: 'User', id, trainerIds });

describe.each(storageBackends())('progress subgraph on %s', (backend) => {
  let server: Running;
  let dispose: () => Promise<void>;
  let asAdmin: string;
  let asClient: string;
  let asTrainer: string;
  let asStranger: string;
  let asOtherClient: string;
  const call = (query: string, variables?: Record<string, unknown>, token?: string) => callSubgraph(server.url, query, variables, { token });
  const statements = async <T>(fn: () => Promise<T>) => {
    const before = server.db.stats.statements;
    const result = await fn();
    return { result, count: server.db.stats.statements - before };
  };

  beforeAll(async () => {
    const t = await openTestDatabase('progress', progressSubgraph.migrationsDir, backend);
    dispose = t.dispose;
    await seedProgress(t.db, gym);
    for (const l of extraLogs) {
      await t.db.query("INSERT INTO workout_logs (id, client_id, workout_date, status) VALUES ($1, $2, $3, 'LOGGED')", [l.id, l.clientId, l.workoutDate]);
    }
    await t.db.query('INSERT INTO body_metrics (id, client_id, recorded_at, body_fat_percentage) VALUES ($1, $2, $3, $4)', [
      fatOnly.id,
      fatOnly.clientId,
      fatOnly.recordedAt,
      fatOnly.bodyFatPercentage,
    ]);
    await t.db.query("INSERT INTO goals (id, client_id, metric, target_value, status, achieved_at) VALUES ($1, $2, 'WORKOUTS_PER_WEEK', 3, $3, now())", [
      achievedGoal.id,
      achievedGoal.clientId,
      achievedGoal.status,
    ]);
    server = await startProgress(testConfig('progress', backend), { db: t.db, clock });
    [asAdmin, asClient, asTrainer, asStranger, asOtherClient] = await Promise.all([
      testToken({ id: admin.id, role: 'ADMIN' }, clock),
      testToken({ id: client.id, role: 'CLIENT' }, clock),
      testToken({ id: trainer.id, role: 'TRAINER' }, clock),
      testToken({ id: strangerTrainer.id, role: 'TRAINER' }, clock),
      testToken({ id: otherClient.id, role: 'CLIENT' }, clock),
    ]);
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('publishes its federation SDL with its entities and the @requires of its User fields', async () => {
    const sdl: string = (await call('{ _service { sdl } }')).body.data?._service.sdl;
    for (const type of ['BodyMetric', 'WorkoutLog', 'Achievement', 'Goal', 'User', 'Booking', 'Program']) {
      expect(sdl).toMatch(new RegExp(`type ${type}\\s+@key\\(fields: "id"\\)`));
    }
    expect(sdl).toMatch(/progress: ProgressSummary\s+@requires\(fields: "trainerIds"\)/);
    expect(sdl).toMatch(/adherence: ProgramAdherence\s+@requires\(fields: "client \{ id \} trainer \{ id \} startDate endDate plannedSessions"\)/);
  });

  it('computes every client’s summary as the seeded data says, for all of them in one statement', async () => {
    const ids = [...clients.map((c) => c.id), MISSING];
    const { result, count } = await statements(() =>
      call(ENTITIES(`... on User { id progress { ${SUMMARY_FIELDS} } }`), { r: ids.map((id) => userRep(id)) }, asAdmin),
    );
    expect(result.body.errors).toBeUndefined();
    expect(count).toBe(1);
    const got = result.body.data!._entities as { id: string; progress: ReturnType<typeof expectedSummary> }[];
    expect(got.map((u) => u.id)).toEqual(ids);
    for (const u of got) expect(u.progress, u.id).toEqual(expectedSummary(u.id));
    // The data is rich enough that the checks mean something.
    const demo = got.find((u) => u.id === client.id)!.progress;
    expect(demo.weightChange30dKg).not.toBeNull();
    expect(demo.latestBodyFatPercentage).toBe(19.5);
    expect(demo.totalWorkouts).toBeGreaterThan(0);
    expect(got.find((u) => u.id === otherClient.id)!.progress.currentStreakWeeks).toBeGreaterThanOrEqual(3);
    expect(got.at(-1)!.progress).toEqual({
      latestWeightKg: null,
      weightChange30dKg: null,
      latestBodyFatPercentage: null,
      workoutsThisMonth: 0,
      currentStreakWeeks: 0,
      totalWorkouts: 0,
      lastWorkoutDate: null,
      activeGoals: 0,
    });
  });

  it('returns newest-first lists per user with per-user limits', async () => {
    const q = ENTITIES(`... on User {
      achievements(first: 1) { id type earnedAt program { id } client { id } }
      workoutLogs(first: 2) { id workoutDate status booking { id } program { id } exercises { name sets reps weightKg } }
      bodyMetrics(first: 3) { id recordedAt weightKg }
      active: goals(status: ACTIVE) { id status metric targetValue startValue deadline }
      all: goals { id status }
    }`);
    const { body } = await call(q, { r: [userRep(client.id)] }, asClient);
    expect(body.errors).toBeUndefined();
    const me = body.data!._entities[0];

    const achievements = gym.achievements.filter((a) => a.clientId === client.id).sort((a, b) => b.earnedAt.getTime() - a.earnedAt.getTime());
    expect(me.achievements).toEqual([
      {
        id: achievements[0].id,
        type: achievements[0].type,
        earnedAt: achievements[0].earnedAt.toISOString(),
        program: achievements[0].programId && { id: achievements[0].programId },
        client: { id: client.id },
      },
    ]);

    const logs = gym.workoutLogs.filter((l) => l.clientId === client.id).sort((a, b) => b.workoutDate.localeCompare(a.workoutDate));
    expect(me.workoutLogs).toHaveLength(2);
    expect(me.workoutLogs[0]).toEqual({
      id: logs[0].id,
      workoutDate: logs[0].workoutDate,
      status: 'LOGGED',
      booking: { id: logs[0].bookingId },
      program: { id: logs[0].programId },
      exercises: logs[0].exercises,
    });
    expect(me.workoutLogs[1].workoutDate <= me.workoutLogs[0].workoutDate).toBe(true);

    const weights = gym.bodyMetrics.filter((m) => m.clientId === client.id).sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime());
    expect(me.bodyMetrics.map((m: { id: string }) => m.id)).toEqual([fatOnly.id, weights[0].id, weights[1].id]);
    expect(me.bodyMetrics[1].weightKg).toBe(weights[0].weightKg);

    const goal = gym.goals.find((g) => g.clientId === client.id)!;
    expect(me.active).toEqual([
      { id: goal.id, status: 'ACTIVE', metric: goal.metric, targetValue: goal.targetValue, startValue: goal.startValue, deadline: goal.deadline },
    ]);
    expect(me.all.map((g: { id: string }) => g.id).sort()).toEqual([goal.id, achievedGoal.id].sort());
  });

  it('costs the same number of statements for 1 user as for 12', async () => {
    const q = ENTITIES(`... on User {
      progress { totalWorkouts }
      achievements(first: 5) { id program { id } }
      workoutLogs(first: 5) { id booking { id } }
      bodyMetrics(first: 5) { id }
      goals(status: ACTIVE) { id }
    }`);
    const one = await statements(() => call(q, { r: [userRep(client.id)] }, asAdmin));
    const many = await statements(() => call(q, { r: clients.map((c) => userRep(c.id)) }, asAdmin));
    expect(one.result.body.errors).toBeUndefined();
    expect(many.result.body.errors).toBeUndefined();
    expect(many.result.body.data!._entities).toHaveLength(12);
    expect(many.result.body.data!._entities.every((u: { workoutLogs: unknown[] }) => u.workoutLogs.length > 0)).toBe(true);
    expect(one.count).toBe(5);
    expect(many.count).toBe(one.count);
  });

  it('shows a user’s progress to themself, their trainers and admins only', async () => {
    const q = ENTITIES('... on User { progress { totalWorkouts } workoutLogs { id } }');
    const own = await call(q, { r: [userRep(client.id)] }, asClient);
    expect(own.body.errors).toBeUndefined();
    const theirTrainer = await call(q, { r: [userRep(client.id, [trainer.id])] }, asTrainer);
    expect(theirTrainer.body.errors).toBeUndefined();
    expect(theirTrainer.body.data!._entities[0].progress.totalWorkouts).toBe(expectedSummary(client.id).totalWorkouts);

    const otherClientView = await call(q, { r: [userRep(client.id)] }, asOtherClient);
    const strangerView = await call(q, { r: [userRep(client.id, [trainer.id])] }, asStranger);
    for (const denied of [otherClientView, strangerView]) {
      expect(denied.body.data!._entities[0]).toEqual({ progress: null, workoutLogs: null });
      expect(denied.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    }
    const anonymous = await call(q, { r: [userRep(client.id)] });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  describe('entity references', () => {
    const cases = [
      {
        type: 'BodyMetric',
        rows: gym.bodyMetrics.filter((m) => m.clientId === client.id).slice(0, 2),
        fields: 'weightKg',
        value: (r: any) => ({ weightKg: r.weightKg }),
      },
      {
        type: 'WorkoutLog',
        rows: gym.workoutLogs.filter((l) => l.clientId === client.id).slice(0, 2),
        fields: 'workoutDate',
        value: (r: any) => ({ workoutDate: r.workoutDate }),
      },
      {
        type: 'Achievement',
        rows: gym.achievements.filter((a) => a.clientId === client.id).slice(0, 2),
        fields: 'title',
        value: (r: any) => ({ title: r.title }),
      },
      { type: 'Goal', rows: gym.goals.filter((g) => g.clientId === client.id), fields: 'targetValue', value: (r: any) => ({ targetValue: r.targetValue }) },
    ];
    it.each(cases)('resolves $type references in key order in one statement, null for unknown ids', async ({ type, rows, fields, value }) => {
      expect(rows.length).toBeGreaterThan(0);
      const ids = [rows.at(-1)!.id, MISSING, rows[0].id];
      const { result, count } = await statements(() =>
        call(ENTITIES(`... on ${type} { id client { id } ${fields} }`), { r: ids.map((id) => ({ __typename: type, id })) }, asClient),
      );
      expect(result.body.errors).toBeUndefined();
      expect(count).toBe(1);
      expect(result.body.data!._entities).toEqual([
        { id: rows.at(-1)!.id, client: { id: client.id }, ...value(rows.at(-1)) },
        null,
        { id: rows[0].id, client: { id: client.id }, ...value(rows[0]) },
      ]);
    });

    it('lets a workout log’s trainer see it, but not another trainer or client', async () => {
      const log = gym.workoutLogs.find((l) => l.clientId === client.id)!;
      const q = ENTITIES('... on WorkoutLog { id }');
      expect((await call(q, { r: [{ __typename: 'WorkoutLog', id: log.id }] }, asTrainer)).body.data!._entities).toEqual([{ id: log.id }]);
      for (const token of [asStranger, asOtherClient]) {
        const denied = await call(q, { r: [{ __typename: 'WorkoutLog', id: log.id }] }, token);
        expect(denied.body.data!._entities).toEqual([null]);
        expect(denied.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    });

    it('keeps client-only rows from everyone but the client and admins', async () => {
      const metric = gym.bodyMetrics.find((m) => m.clientId === client.id)!;
      const goal = gym.goals.find((g) => g.clientId === client.id)!;
      const r = [
        { __typename: 'BodyMetric', id: metric.id },
        { __typename: 'Goal', id: goal.id },
      ];
      const q = ENTITIES('... on BodyMetric { id } ... on Goal { id }');
      expect((await call(q, { r }, asAdmin)).body.data!._entities).toEqual([{ id: metric.id }, { id: goal.id }]);
      const denied = await call(q, { r }, asOtherClient);
      expect(denied.body.data!._entities).toEqual([null, null]);
      expect(denied.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    });
  });

  it('gives each booking its workout log in one statement, to its client, its trainer and admins', async () => {
    const logs = gym.workoutLogs.filter((l) => l.trainerId === trainer.id).slice(0, 3);
    const open = gym.bookings.find((b) => b.status === 'CONFIRMED' && b.trainerId === trainer.id)!;
    const r = [...logs.map((l) => ({ __typename: 'Booking', id: l.bookingId })), { __typename: 'Booking', id: open.id }];
    const q = ENTITIES('... on Booking { id workoutLog { id workoutDate client { id } } }');
    const { result, count } = await statements(() => call(q, { r }, asTrainer));
    expect(result.body.errors).toBeUndefined();
    expect(count).toBe(1);
    expect(result.body.data!._entities).toEqual([
      ...logs.map((l) => ({ id: l.bookingId, workoutLog: { id: l.id, workoutDate: l.workoutDate, client: { id: l.clientId } } })),
      { id: open.id, workoutLog: null },
    ]);

    const mine = gym.workoutLogs.find((l) => l.clientId === client.id)!;
    const one = [{ __typename: 'Booking', id: mine.bookingId }];
    expect((await call(q, { r: one }, asClient)).body.data!._entities[0].workoutLog.id).toBe(mine.id);
    expect((await call(q, { r: one }, asAdmin)).body.data!._entities[0].workoutLog.id).toBe(mine.id);
    const denied = await call(q, { r: one }, asStranger);
    expect(denied.body.data!._entities[0]).toEqual({ id: mine.bookingId, workoutLog: null });
    expect(denied.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  describe('Program.adherence', () => {
    const q = ENTITIES('... on Program { id adherence { plannedSessions completedSessions rate } }');
    const programRep = (p: (typeof gym.programs)[number], over: Record<string, unknown> = {}) => ({
      __typename: 'Program',
      id: p.id,
      client: { id: p.clientId },
      trainer: { id: p.trainerId },
      startDate: p.startDate,
      endDate: addDays(p.startDate, p.durationWeeks * 7),
      plannedSessions: p.durationWeeks * p.workoutPlan.sessionsPerWeek,
      ...over,
    });
    const active = gym.programs.filter((p) => p.status === 'ACTIVE');
    const completedOf = (programId: string) => gym.workoutLogs.filter((l) => l.programId === programId).length;

    it('counts logged workouts against sessions planned to date, for many programs in one statement', async () => {
      const { result, count } = await statements(() => call(q, { r: active.map((p) => programRep(p)) }, asAdmin));
      expect(result.body.errors).toBeUndefined();
      expect(count).toBe(1);
      const got = result.body.data!._entities;
      active.forEach((p, i) => {
        const planned = p.durationWeeks * p.workoutPlan.sessionsPerWeek;
        const elapsed = (Date.parse(today) - Date.parse(p.startDate)) / DAY;
        const plannedToDate = Math.round(planned * Math.min(Math.max(elapsed / (p.durationWeeks * 7), 0), 1));
        const completed = completedOf(p.id);
        expect(got[i]).toEqual({
          id: p.id,
          adherence: { plannedSessions: plannedToDate, completedSessions: completed, rate: Math.min(completed / plannedToDate, 1) },
        });
      });
      expect(got.some((p: { adherence: { completedSessions: number } }) => p.adherence.completedSessions > 0)).toBe(true);
    });

    it('is 0 before the start and capped at 1 after the end', async () => {
      const p = active.find((x) => x.clientId === client.id)!;
      const future = programRep(p, { startDate: addDays(today, 1), endDate: addDays(today, 30) });
      const over = programRep(p, { startDate: addDays(today, -30), endDate: addDays(today, -1), plannedSessions: 1 });
      const { body } = await call(q, { r: [future, over] }, asClient);
      expect(body.errors).toBeUndefined();
      expect(body.data!._entities).toEqual([
        { id: p.id, adherence: { plannedSessions: 0, completedSessions: completedOf(p.id), rate: 0 } },
        { id: p.id, adherence: { plannedSessions: 1, completedSessions: completedOf(p.id), rate: 1 } },
      ]);
    });

    it('is for the program’s client, its trainer and admins', async () => {
      const p = active.find((x) => x.clientId === client.id)!;
      expect((await call(q, { r: [programRep(p)] }, asTrainer)).body.errors).toBeUndefined();
      for (const token of [asStranger, asOtherClient]) {
        const denied = await call(q, { r: [programRep(p)] }, token);
        expect(denied.body.data!._entities).toEqual([{ id: p.id, adherence: null }]);
        expect(denied.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    });
  });

  it('answers Query.achievement for its client and admins, NOT_FOUND and BAD_USER_INPUT otherwise', async () => {
    const a = gym.achievements.find((x) => x.clientId === client.id)!;
    const q = 'query($id: ID!) { achievement(id: $id) { id title badgeIcon description } }';
    const own = await call(q, { id: a.id }, asClient);
    expect(own.body.data?.achievement).toEqual({ id: a.id, title: a.title, badgeIcon: a.badgeIcon, description: a.description });
    expect((await call(q, { id: a.id }, asAdmin)).body.data?.achievement.id).toBe(a.id);
    expect((await call(q, { id: a.id }, asOtherClient)).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(q, { id: MISSING }, asClient)).body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await call(q, { id: "1' or '1'='1" }, asClient)).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(q, { id: a.id })).body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses malformed ids and unbounded lists without failing the rest of the batch', async () => {
    const q = ENTITIES('... on User { id progress { totalWorkouts } }');
    const { body } = await call(q, { r: [userRep('not-a-uuid', []), userRep(client.id)] }, asAdmin);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(body.data!._entities[1].progress.totalWorkouts).toBe(expectedSummary(client.id).totalWorkouts);

    const badRef = await call(ENTITIES('... on Achievement { id }'), { r: [{ __typename: 'Achievement', id: 'x' }] }, asAdmin);
    expect(badRef.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const tooMany = await call(ENTITIES('... on User { workoutLogs(first: 101) { id } }'), { r: [userRep(client.id)] }, asAdmin);
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
