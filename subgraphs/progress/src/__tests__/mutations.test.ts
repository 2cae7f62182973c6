import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import type { Database } from '@fitsync/service-kit';
import {
  correlatedCaller,
  outboxEvents,
  startTestSubgraphs,
  storageBackends,
  testToken,
  type IsolatedSubgraph,
  type TestSubgraphs,
  testClock,
} from '@fitsync/service-kit/testing';
import { seedTraining, startTraining, trainingSubgraph } from '@fitsync/training';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressSubgraph, seedProgress, startProgress } from '../server.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
// Each test that writes measurements or goals owns a client of the demo trainer, so what one
// test records never becomes another's "latest value", "previous value" or "active goal".
const trainersClients = [...new Set(gym.programs.filter((p) => p.trainerId === trainer.id).map((p) => p.clientId))]
  .filter((id) => id !== client.id)
  .map((id) => gym.users.find((u) => u.id === id)!);
const [goalClient, muscleClient] = trainersClients;
const latestOf = (clientId: string) =>
  gym.bodyMetrics.filter((m) => m.clientId === clientId).sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime())[0];
const latest = latestOf(client.id);
const weightGoal = gym.goals.find((g) => g.clientId === goalClient.id && g.metric === 'WEIGHT_KG')!;
const MISSING = '00000000-0000-4000-8000-000000000000';
const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);
const round1 = (n: number) => Math.round(n * 10) / 10;

const RECORD = 'mutation($i: BodyMetricsInput!) { recordBodyMetrics(input: $i) { id client { id } weightKg bodyFatPercentage restingHeartRate notes } }';
const SET_GOAL = 'mutation($i: GoalInput!) { setGoal(input: $i) { id client { id } metric targetValue startValue deadline status } }';

/** users, training and progress, seeded with the demo gym, calling each other. */
const startGym = (backend: ReturnType<typeof storageBackends>[number]) =>
  startTestSubgraphs(
    backend,
    [
      { name: 'users', migrationsDir: usersSubgraph.migrationsDir, seed: (d) => seedUsers(d, gym), start: startUsers },
      { name: 'training', migrationsDir: trainingSubgraph.migrationsDir, seed: (d) => seedTraining(d, gym), start: startTraining },
      { name: 'progress', migrationsDir: progressSubgraph.migrationsDir, seed: (d) => seedProgress(d, gym), start: startProgress },
    ],
    clock,
  );

const snapshotOf = async (db: Database) => ({
  metrics: (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM body_metrics'))[0].n,
  goals: await db.query('SELECT id, status, target_value FROM goals ORDER BY id'),
  events: (await outboxEvents(db)).length,
});

describe.each(storageBackends())('progress mutations on %s', (backend) => {
  let env: TestSubgraphs;
  let db: Database;
  let url: string;
  /** Each call carries its own correlation id, returned with the response. */
  const call = correlatedCaller(() => url, `progress-${backend}`);
  const outbox = () => outboxEvents(db);
  const snapshot = () => snapshotOf(db);

  beforeAll(async () => {
    env = await startGym(backend);
    db = env.dbs.progress!;
    url = env.servers.progress!.url;
  });
  afterAll(async () => {
    await env?.close();
  });

  it('records a client’s own measurements with progress.updated: new values and the change from the last ones', async () => {
    const before = (await outbox()).length;
    const weight = round1(latest.weightKg - 0.4);
    const res = await call(RECORD, { i: { weightKg: weight, restingHeartRate: 60, notes: 'Morning' } }, await as(client));
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordBodyMetrics).toMatchObject({
      client: { id: client.id },
      weightKg: weight,
      bodyFatPercentage: null,
      restingHeartRate: 60,
      notes: 'Morning',
    });
    const events = (await outbox()).slice(before);
    expect(events.map((e) => e.channel)).toEqual(['progress.updated']);
    expect(events[0].envelope).toMatchObject({
      source: 'progress',
      correlation_id: res.correlationId,
      data: {
        client_id: client.id,
        metric_type: 'body_metrics',
        new_value: { weight_kg: weight, resting_heart_rate: 60 },
        change_from_last: { weight_kg: -0.4, resting_heart_rate: 60 - latest.restingHeartRate },
      },
    });
  });

  it('reaches an active goal: milestone.reached and the goal ACHIEVED in the same transaction', async () => {
    const before = (await outbox()).length;
    const target = weightGoal.targetValue;
    const res = await call(RECORD, { i: { clientId: goalClient.id, weightKg: round1(target - 0.2) } }, await as(trainer));
    expect(res.errors).toBeUndefined();
    const events = (await outbox()).slice(before);
    expect(events.map((e) => e.channel)).toEqual(['progress.updated', 'milestone.reached']);
    expect(events[1].envelope).toMatchObject({
      correlation_id: res.correlationId,
      data: {
        client_id: goalClient.id,
        goal_id: weightGoal.id,
        milestone_type: 'weight_goal',
        metric: 'weight_kg',
        target_value: target,
        achieved_value: round1(target - 0.2),
        // the weight measured before this one: the seeded latest (no other test measures this client)
        previous_value: latestOf(goalClient.id).weightKg,
      },
    });
    const [goal] = await db.query<{ status: string; achieved_at: Date | null }>('SELECT status, achieved_at FROM goals WHERE id = $1', [weightGoal.id]);
    expect(goal.status).toBe('ACHIEVED');
    expect(goal.achieved_at).not.toBeNull();
    // reached once: a lower weight later says nothing more about that goal
    await call(RECORD, { i: { weightKg: round1(target - 1) } }, await as(goalClient));
    expect((await outbox()).slice(before + 2).map((e) => e.channel)).toEqual(['progress.updated']);
  });

  it('sets goals from the latest value, replacing the active goal of the metric, and reaches a rising one', async () => {
    const muscle = await call(SET_GOAL, { i: { metric: 'MUSCLE_MASS_KG', targetValue: 99, deadline: addDays(TODAY, 30) } }, await as(muscleClient));
    expect(muscle.errors).toBeUndefined();
    expect(muscle.data!.setGoal).toMatchObject({
      metric: 'MUSCLE_MASS_KG',
      targetValue: 99,
      startValue: latestOf(muscleClient.id).muscleMassKg,
      status: 'ACTIVE',
    });
    const replaced = await call(SET_GOAL, { i: { clientId: muscleClient.id, metric: 'MUSCLE_MASS_KG', targetValue: 50 } }, await as(trainer));
    expect(replaced.errors).toBeUndefined();
    const rows = await db.query<{ id: string; status: string }>("SELECT id, status FROM goals WHERE client_id = $1 AND metric = 'MUSCLE_MASS_KG'", [
      muscleClient.id,
    ]);
    expect(rows.find((r) => r.id === muscle.data!.setGoal.id)?.status).toBe('ABANDONED');
    expect(rows.filter((r) => r.status === 'ACTIVE').map((r) => r.id)).toEqual([replaced.data!.setGoal.id]);

    const before = (await outbox()).length;
    await call(RECORD, { i: { muscleMassKg: 50.5 } }, await as(muscleClient));
    const events = (await outbox()).slice(before);
    expect(events.map((e) => e.channel)).toEqual(['progress.updated', 'milestone.reached']);
    expect(events[1].envelope.data).toMatchObject({ goal_id: replaced.data!.setGoal.id, milestone_type: 'muscle_mass_goal', achieved_value: 50.5 });
  });

  it('refuses strangers, wrong roles and bad values, writing nothing', async () => {
    const snap = await snapshot();
    const cases: [string, Record<string, unknown>, string, string, string?][] = [
      [RECORD, { clientId: client.id, weightKg: 80 }, await as(otherTrainer), 'FORBIDDEN'],
      [RECORD, { clientId: client.id, weightKg: 80 }, await as(otherClient), 'FORBIDDEN'],
      [RECORD, { clientId: trainer.id, weightKg: 80 }, await as(admin), 'BAD_USER_INPUT', 'clientId'],
      [RECORD, { clientId: MISSING, weightKg: 80 }, await as(admin), 'BAD_USER_INPUT', 'clientId'],
      [RECORD, { clientId: 'abc', weightKg: 80 }, await as(admin), 'BAD_USER_INPUT', 'clientId'],
      [RECORD, { weightKg: 80 }, await as(trainer), 'BAD_USER_INPUT', 'clientId'],
      [RECORD, {}, await as(client), 'BAD_USER_INPUT'],
      [RECORD, { weightKg: -5 }, await as(client), 'BAD_USER_INPUT', 'weightKg'],
      [RECORD, { bodyFatPercentage: 140 }, await as(client), 'BAD_USER_INPUT', 'bodyFatPercentage'],
      [RECORD, { weightKg: 80, recordedAt: '2999-01-01T00:00:00Z' }, await as(client), 'BAD_USER_INPUT', 'recordedAt'],
      [RECORD, { weightKg: 80, recordedAt: 'yesterday' }, await as(client), 'BAD_USER_INPUT'],
      [SET_GOAL, { metric: 'WEIGHT_KG', targetValue: -1 }, await as(client), 'BAD_USER_INPUT', 'targetValue'],
      [SET_GOAL, { metric: 'WEIGHT_KG', targetValue: 70, deadline: addDays(TODAY, -1) }, await as(client), 'BAD_USER_INPUT', 'deadline'],
      [SET_GOAL, { metric: 'WEIGHT_KG', targetValue: 70, deadline: '2026-02-30' }, await as(client), 'BAD_USER_INPUT'],
      [SET_GOAL, { clientId: client.id, metric: 'WEIGHT_KG', targetValue: 70 }, await as(otherTrainer), 'FORBIDDEN'],
    ];
    for (const [q, i, token, code, field] of cases) {
      const res = await call(q, { i }, token);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(i)).toBe(code);
      if (field) expect(res.errors?.[0].extensions?.field, JSON.stringify(i)).toBe(field);
    }
    expect(await snapshot()).toEqual(snap);
  });

  // Stopping the shared subgraphs would break every test that runs after this one: the outage
  // stops instances of its own instead (see TestSubgraphs.isolate).
  describe('with users and training down', () => {
    let isolated: IsolatedSubgraph;
    const callDown = correlatedCaller(() => isolated.server.url, `progress-down-${backend}`);

    beforeAll(async () => {
      isolated = await env.isolate('progress');
    });
    afterAll(async () => {
      await isolated?.close();
    });

    it('fails with SERVICE_UNAVAILABLE and writes nothing when it cannot check the client', async () => {
      const snap = await snapshotOf(isolated.db);
      await isolated.stop('training');
      const asTrainer = await callDown(RECORD, { i: { clientId: client.id, weightKg: 80 } }, await as(trainer));
      expect(asTrainer.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'training' });
      await isolated.stop('users');
      const asAdmin = await callDown(RECORD, { i: { clientId: client.id, weightKg: 80 } }, await as(admin));
      expect(asAdmin.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'users' });
      expect(await snapshotOf(isolated.db)).toEqual(snap);
      // the client's own record needs no other service
      expect((await callDown(RECORD, { i: { weightKg: 80 } }, await as(client))).errors).toBeUndefined();
    });
  });
});
