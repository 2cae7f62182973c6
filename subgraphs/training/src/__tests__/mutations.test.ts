import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { progressSubgraph, seedProgress, startProgress } from '@fitsync/progress';
import type { Database } from '@fitsync/service-kit';
import {
  callSubgraph,
  correlatedCaller,
  outboxEvents,
  startTestSubgraphs,
  storageBackends,
  testToken,
  type IsolatedSubgraph,
  type TestSubgraphs,
  testClock,
} from '@fitsync/service-kit/testing';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTraining, startTraining, trainingSubgraph } from '../server.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
// A client the other trainer coaches (the demo gym's accepted relationships).
const otherTrainersClient = gym.coaching.find((c) => c.trainerId === otherTrainer.id)!.clientId;
const otherClient = gym.users.find((u) => u.role === 'CLIENT' && u.id !== client.id)!;
const active = gym.programs.find((p) => p.clientId === client.id && p.trainerId === trainer.id && p.status === 'ACTIVE')!;
// The active-program question is asked about another client of the demo trainer, one no test
// assigns to or completes a program for: the demo client's programs change in other tests.
const askedAbout = gym.programs.find((p) => p.trainerId === trainer.id && p.clientId !== client.id && p.status === 'ACTIVE')!;
const askingClient = gym.users.find((u) => u.id === askedAbout.clientId)!;
const MISSING = '00000000-0000-4000-8000-000000000000';
const as = (u: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }) => testToken({ id: u.id, role: u.role }, clock);

const FIELDS =
  'id name status startDate durationWeeks adherenceRate client { id } trainer { id } workoutPlan { id name sessionsPerWeek exercises { name sets reps } } dietPlan { id dailyCalories }';
const ASSIGN = `mutation($i: AssignProgramInput!) { assignProgram(input: $i) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateProgramInput!) { updateProgram(id: $id, input: $i) { ${FIELDS} } }`;
const COMPLETE = `mutation($id: ID!, $rate: Float) { completeProgram(id: $id, adherenceRate: $rate) { ${FIELDS} completedAt } }`;

const input = (over: Record<string, unknown> = {}) => ({
  clientId: client.id,
  name: 'Spring Strength',
  description: 'Three lifts, done well',
  startDate: TODAY,
  durationWeeks: 8,
  workoutPlan: { name: 'Lifts', sessionsPerWeek: 3, exercises: [{ name: 'Squat', sets: 5, reps: 5, restSeconds: 120 }] },
  dietPlan: { name: 'Fuel', dailyCalories: 2400, proteinGrams: 160 },
  ...over,
});

describe.each(storageBackends())('training mutations on %s', (backend) => {
  let env: TestSubgraphs;
  let db: Database;
  let url: string;
  /** Each call carries its own correlation id, returned with the response. */
  const call = correlatedCaller(() => url, `training-${backend}`);
  const outbox = () => outboxEvents(db);
  const snapshot = async () => ({
    programs: await db.query('SELECT * FROM programs ORDER BY id'),
    plans: (await db.query<{ n: number }>('SELECT (SELECT count(*) FROM workout_plans) + (SELECT count(*) FROM diet_plans) AS n'))[0].n,
    events: (await outbox()).length,
  });

  beforeAll(async () => {
    env = await startTestSubgraphs(
      backend,
      [
        { name: 'users', migrationsDir: usersSubgraph.migrationsDir, seed: (d) => seedUsers(d, gym), start: startUsers },
        { name: 'progress', migrationsDir: progressSubgraph.migrationsDir, seed: (d) => seedProgress(d, gym), start: startProgress },
        { name: 'training', migrationsDir: trainingSubgraph.migrationsDir, seed: (d) => seedTraining(d, gym), start: startTraining },
      ],
      clock,
    );
    db = env.dbs.training!;
    url = env.servers.training!.url;
  });
  afterAll(async () => {
    await env?.close();
  });

  it('assigns a program with its plans as the signed-in trainer, with program.assigned in the same transaction', async () => {
    const before = (await outbox()).length;
    const res = await call(ASSIGN, { i: input() }, await as(trainer));
    expect(res.errors).toBeUndefined();
    const p = res.data!.assignProgram;
    expect(p).toMatchObject({
      name: 'Spring Strength',
      status: 'ACTIVE',
      startDate: TODAY,
      durationWeeks: 8,
      client: { id: client.id },
      trainer: { id: trainer.id },
      workoutPlan: { name: 'Lifts', sessionsPerWeek: 3, exercises: [{ name: 'Squat', sets: 5, reps: 5 }] },
      dietPlan: { dailyCalories: 2400 },
    });
    const events = (await outbox()).slice(before);
    expect(events.map((e) => e.channel)).toEqual(['program.assigned']);
    expect(events[0].envelope).toMatchObject({
      source: 'training',
      correlation_id: res.correlationId,
      data: {
        program_id: p.id,
        client_id: client.id,
        trainer_id: trainer.id,
        name: 'Spring Strength',
        workout_plan_id: p.workoutPlan.id,
        diet_plan_id: p.dietPlan.id,
        start_date: TODAY,
        duration_weeks: 8,
      },
    });
    // Consent holds for admins too: no program for a pair without an accepted coaching relationship.
    const unconsented = await call(ASSIGN, { i: input({ trainerId: otherTrainer.id }) }, await as(admin));
    expect(unconsented.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const admins = await call(
      ASSIGN,
      { i: input({ clientId: otherTrainersClient, trainerId: otherTrainer.id, workoutPlan: null, dietPlan: null }) },
      await as(admin),
    );
    expect(admins.data!.assignProgram).toMatchObject({
      client: { id: otherTrainersClient },
      trainer: { id: otherTrainer.id },
      workoutPlan: null,
      dietPlan: null,
    });
  });

  it('refuses wrong roles, other trainers and bad input, writing nothing', async () => {
    const before = await snapshot();
    const asTrainer = await as(trainer);
    const cases: [Record<string, unknown>, string, string, string?][] = [
      [{ clientId: otherTrainer.id }, asTrainer, 'BAD_USER_INPUT', 'clientId'],
      [{ clientId: MISSING }, asTrainer, 'BAD_USER_INPUT', 'clientId'],
      [{ clientId: 'nope' }, asTrainer, 'BAD_USER_INPUT', 'clientId'],
      [{ trainerId: otherClient.id }, await as(admin), 'BAD_USER_INPUT', 'trainerId'],
      [{}, await as(admin), 'BAD_USER_INPUT', 'trainerId'],
      [{ trainerId: otherTrainer.id }, asTrainer, 'FORBIDDEN'],
      [{}, await as(client), 'FORBIDDEN'],
      [{ durationWeeks: 0 }, asTrainer, 'BAD_USER_INPUT', 'durationWeeks'],
      [{ startDate: '2026-13-01' }, asTrainer, 'BAD_USER_INPUT'],
      [{ name: '  ' }, asTrainer, 'BAD_USER_INPUT', 'name'],
      [{ workoutPlan: { name: 'x', sessionsPerWeek: 20 } }, asTrainer, 'BAD_USER_INPUT', 'workoutPlan.sessionsPerWeek'],
    ];
    for (const [over, token, code, field] of cases) {
      const res = await call(ASSIGN, { i: input(over) }, token);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(over)).toBe(code);
      if (field) expect(res.errors?.[0].extensions?.field, JSON.stringify(over)).toBe(field);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers whether a client has an active program with a trainer, to the two of them and admins', async () => {
    const q = 'query($c: ID!, $t: ID!) { activeProgram(clientId: $c, trainerId: $t) { id } }';
    expect((await call(q, { c: askingClient.id, t: trainer.id }, await as(askingClient))).data!.activeProgram).toEqual({ id: askedAbout.id });
    const notTheirTrainer = gym.users.find((u) => u.role === 'TRAINER' && !gym.programs.some((p) => p.clientId === askingClient.id && p.trainerId === u.id))!;
    expect((await call(q, { c: askingClient.id, t: notTheirTrainer.id }, await as(askingClient))).data!.activeProgram).toBeNull();
    expect((await call(q, { c: askingClient.id, t: trainer.id }, await as(otherClient))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('updates a program with the list of changes, pauses and resumes it; only its trainer or an admin', async () => {
    const created = (await call(ASSIGN, { i: input({ name: 'To change' }) }, await as(trainer))).data!.assignProgram;
    const before = (await outbox()).length;
    const res = await call(
      UPDATE,
      { id: created.id, i: { name: 'Changed', status: 'PAUSED', dietPlan: { name: 'Cut', dailyCalories: 2000 } } },
      await as(trainer),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateProgram).toMatchObject({ name: 'Changed', status: 'PAUSED', dietPlan: { dailyCalories: 2000 } });
    const events = (await outbox()).slice(before);
    expect(events).toHaveLength(1);
    expect(events[0].envelope).toMatchObject({
      event: 'program.updated',
      correlation_id: res.correlationId,
      data: { program_id: created.id, client_id: client.id, trainer_id: trainer.id, name: 'Changed', changes: ['name', 'status', 'diet_plan'] },
    });
    // the same values again: nothing to say
    const same = await call(UPDATE, { id: created.id, i: { name: 'Changed', status: 'PAUSED' } }, await as(trainer));
    expect(same.errors).toBeUndefined();
    expect((await outbox()).length).toBe(before + 1);

    const snap = await snapshot();
    expect((await call(UPDATE, { id: created.id, i: { name: 'x' } }, await as(otherTrainer))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(UPDATE, { id: created.id, i: { name: 'x' } }, await as(client))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await call(UPDATE, { id: MISSING, i: { name: 'x' } }, await as(admin))).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await call(UPDATE, { id: created.id, i: { status: 'COMPLETED' } }, await as(trainer))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(UPDATE, { id: created.id, i: { durationWeeks: 500 } }, await as(trainer))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshot()).toEqual(snap);

    const resumed = await call(UPDATE, { id: created.id, i: { status: 'ACTIVE' } }, await as(admin));
    expect(resumed.data!.updateProgram.status).toBe('ACTIVE');
  });

  it('completes a program with the given adherence once; completed and cancelled programs are final', async () => {
    const created = (await call(ASSIGN, { i: input({ name: 'To complete' }) }, await as(trainer))).data!.assignProgram;
    expect((await call(COMPLETE, { id: created.id, rate: 1.5 }, await as(trainer))).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(COMPLETE, { id: created.id, rate: 0.9 }, await as(client))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const before = (await outbox()).length;
    const res = await call(COMPLETE, { id: created.id, rate: 0.9 }, await as(trainer));
    expect(res.errors).toBeUndefined();
    expect(res.data!.completeProgram).toMatchObject({ status: 'COMPLETED', adherenceRate: 0.9 });
    expect(res.data!.completeProgram.completedAt).toBeTruthy();
    const [event] = (await outbox()).slice(before);
    expect(event.envelope).toMatchObject({
      event: 'program.completed',
      correlation_id: res.correlationId,
      data: { program_id: created.id, client_id: client.id, trainer_id: trainer.id, name: 'To complete', completion_date: TODAY, adherence_rate: 0.9 },
    });
    const snap = await snapshot();
    expect((await call(COMPLETE, { id: created.id }, await as(trainer))).errors?.[0].extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
    });
    expect((await call(UPDATE, { id: created.id, i: { status: 'ACTIVE' } }, await as(trainer))).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await snapshot()).toEqual(snap);

    const cancelled = (await call(ASSIGN, { i: input({ name: 'To cancel' }) }, await as(trainer))).data!.assignProgram;
    expect((await call(UPDATE, { id: cancelled.id, i: { status: 'CANCELLED' } }, await as(trainer))).data!.updateProgram.status).toBe('CANCELLED');
    expect((await call(COMPLETE, { id: cancelled.id, rate: 0.5 }, await as(trainer))).errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('defaults the adherence to what progress computes for the program', async () => {
    const adherence = await callSubgraph(
      env.servers.progress!.url,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Program { adherence { rate } } } }',
      {
        r: [
          {
            __typename: 'Program',
            id: active.id,
            client: { id: client.id },
            trainer: { id: trainer.id },
            startDate: active.startDate,
            endDate: (await call('query($id: ID!) { program(id: $id) { endDate } }', { id: active.id }, await as(admin))).data!.program.endDate,
            plannedSessions: active.durationWeeks * active.workoutPlan.sessionsPerWeek,
          },
        ],
      },
      { token: await as(admin) },
    );
    const expected = adherence.body.data!._entities[0].adherence.rate as number;
    expect(expected).toBeGreaterThan(0);
    const res = await call(COMPLETE, { id: active.id }, await as(trainer));
    expect(res.errors).toBeUndefined();
    expect(res.data!.completeProgram.adherenceRate).toBeCloseTo(expected, 3);
    const [event] = (await outbox()).filter((e) => e.envelope.data.program_id === active.id);
    expect(event.envelope.data.adherence_rate).toBeCloseTo(expected, 3);
  });

  // Stopping the shared subgraphs would break every test that runs after this one: the outage
  // stops instances of its own instead (see TestSubgraphs.isolate).
  describe('with progress or users down', () => {
    let isolated: IsolatedSubgraph;
    const callDown = correlatedCaller(() => isolated.server.url, `training-down-${backend}`);
    const snapshotDown = async () => ({
      programs: await isolated.db.query('SELECT * FROM programs ORDER BY id'),
      plans: (await isolated.db.query<{ n: number }>('SELECT (SELECT count(*) FROM workout_plans) + (SELECT count(*) FROM diet_plans) AS n'))[0].n,
      events: (await outboxEvents(isolated.db)).length,
    });

    beforeAll(async () => {
      isolated = await env.isolate('training');
    });
    afterAll(async () => {
      await isolated?.close();
    });

    it('completes without adherence when progress is down, and refuses to assign when users is down', async () => {
      await isolated.stop('progress');
      const created = (await callDown(ASSIGN, { i: input({ name: 'No progress' }) }, await as(trainer))).data!.assignProgram;
      const res = await callDown(COMPLETE, { id: created.id }, await as(trainer));
      expect(res.data!.completeProgram).toMatchObject({ status: 'COMPLETED', adherenceRate: null });

      await isolated.stop('users');
      const snap = await snapshotDown();
      const down = await callDown(ASSIGN, { i: input() }, await as(trainer));
      expect(down.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'users' });
      expect(await snapshotDown()).toEqual(snap);
    });
  });
});
