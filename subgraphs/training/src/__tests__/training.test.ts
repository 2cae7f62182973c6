import { callSubgraph, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import type { RunningSubgraph as Running } from '@fitsync/service-kit';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTraining, startTraining, trainingSubgraph } from '../server.js';

const { clock, today } = testClock('2026-11-23T12:00:00');
const gym = demoGym(today);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const clients = gym.users.filter((u) => u.role === 'CLIENT');
const otherTrainer = gym.users.find((u) => u.role === 'TRAINER' && u.id !== trainer.id)!;
const trainerClients = [...new Set(gym.programs.filter((p) => p.trainerId === trainer.id && p.status === 'ACTIVE').map((p) => p.clientId))];
const otherClient = clients.find((c) => !trainerClients.includes(c.id))!;
const clientPrograms = gym.programs.filter((p) => p.clientId === client.id);
const activeProgram = clientPrograms.find((p) => p.status === 'ACTIVE')!;
const MISSING = '00000000-0000-4000-8000-000000000000';
// Added by the test: the demo client's program with another trainer, cancelled before it began.
const CANCELLED = 'cccccccc-0000-4000-8000-000000000001';

const entities = (fragment: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ${fragment} } }`;
const userRefs = (ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'User', id })) });

describe.each(storageBackends())('training subgraph on %s', (backend) => {
  let server: Running;
  let dispose: () => Promise<void>;
  const tokens: Record<'client' | 'trainer' | 'admin' | 'otherClient' | 'otherTrainer', string> = {} as never;
  const call = (query: string, variables?: Record<string, unknown>, token?: string) => callSubgraph(server.url, query, variables, { token });
  /** Runs an operation and returns its result with the number of SQL statements it cost. */
  const measured = async (query: string, variables: Record<string, unknown>, token: string) => {
    const before = server.db.stats.statements;
    const { body } = await call(query, variables, token);
    return { body, statements: server.db.stats.statements - before };
  };

  beforeAll(async () => {
    const t = await openTestDatabase('training', trainingSubgraph.migrationsDir, backend);
    dispose = t.dispose;
    await seedTraining(t.db, gym);
    await t.db.query(
      `INSERT INTO programs (id, client_id, trainer_id, name, start_date, duration_weeks, status, created_at)
       VALUES ($1, $2, $3, 'Cancelled trial', '2026-12-01', 4, 'CANCELLED', '2026-11-20T08:00:00Z')`,
      [CANCELLED, client.id, otherTrainer.id],
    );
    server = await startTraining(testConfig('training', backend), { db: t.db, clock });
    tokens.client = await testToken({ id: client.id, role: 'CLIENT' }, clock);
    tokens.trainer = await testToken({ id: trainer.id, role: 'TRAINER' }, clock);
    tokens.admin = await testToken({ id: admin.id, role: 'ADMIN' }, clock);
    tokens.otherClient = await testToken({ id: otherClient.id, role: 'CLIENT' }, clock);
    tokens.otherTrainer = await testToken({ id: otherTrainer.id, role: 'TRAINER' }, clock);
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('publishes its federation SDL with its entities and the internal trainerIds', async () => {
    const { body } = await call('{ _service { sdl } }');
    const sdl: string = body.data?._service.sdl;
    for (const type of ['Program', 'WorkoutPlan', 'DietPlan', 'User']) expect(sdl).toMatch(new RegExp(`type ${type}\\s+@key\\(fields: "id"\\)`));
    expect(sdl).toMatch(/trainerIds: \[ID!\]! @inaccessible/);
  });

  it('refuses requests without a service credential', async () => {
    const res = await callSubgraph(server.url, '{ program(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, { service: false });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('returns a program with its dates, plans and parties to its client', async () => {
    const { body } = await call(
      `query($id: ID!) { program(id: $id) {
         id name status startDate endDate durationWeeks plannedSessions adherenceRate completedAt
         client { id } trainer { id }
         workoutPlan { id sessionsPerWeek exercises { name sets reps restSeconds } }
         dietPlan { id dailyCalories proteinGrams carbsGrams fatGrams }
       } }`,
      { id: activeProgram.id },
      tokens.client,
    );
    expect(body.errors).toBeUndefined();
    const w = activeProgram.workoutPlan;
    const d = activeProgram.dietPlan;
    expect(body.data?.program).toEqual({
      id: activeProgram.id,
      name: activeProgram.name,
      status: 'ACTIVE',
      startDate: activeProgram.startDate,
      endDate: addDays(activeProgram.startDate, activeProgram.durationWeeks * 7),
      durationWeeks: activeProgram.durationWeeks,
      plannedSessions: activeProgram.durationWeeks * w.sessionsPerWeek,
      adherenceRate: null,
      completedAt: null,
      client: { id: client.id },
      trainer: { id: trainer.id },
      workoutPlan: { id: w.id, sessionsPerWeek: w.sessionsPerWeek, exercises: w.exercises },
      dietPlan: { id: d.id, dailyCalories: d.dailyCalories, proteinGrams: d.proteinGrams, carbsGrams: d.carbsGrams, fatGrams: d.fatGrams },
    });
  });

  it('answers program(id) with BAD_USER_INPUT, NOT_FOUND, FORBIDDEN and UNAUTHENTICATED where due', async () => {
    const q = 'query($id: ID!) { program(id: $id) { id } }';
    const bad = await call(q, { id: "1' OR 1=1" }, tokens.admin);
    expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await call(q, { id: MISSING }, tokens.admin);
    expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const stranger = await call(q, { id: activeProgram.id }, tokens.otherClient);
    expect(stranger.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(stranger.body.data?.program).toBeNull();
    const otherTrainerAsks = await call(q, { id: activeProgram.id }, tokens.otherTrainer);
    expect(otherTrainerAsks.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const anonymous = await call(q, { id: activeProgram.id });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const asTrainer = await call(q, { id: activeProgram.id }, tokens.trainer);
    expect(asTrainer.body.data?.program).toEqual({ id: activeProgram.id });
  });

  it('resolves Program references in key order in one statement, null for unknown ids', async () => {
    const [a, b] = gym.programs;
    const { body, statements } = await measured(
      entities('... on Program { id name }'),
      { r: [b.id, MISSING, a.id].map((id) => ({ __typename: 'Program', id })) },
      tokens.admin,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([{ id: b.id, name: b.name }, null, { id: a.id, name: a.name }]);
    expect(statements).toBe(1);
  });

  it('refuses a Program reference to a viewer who is not a party, per entity', async () => {
    const other = gym.programs.find((p) => p.clientId === otherClient.id)!;
    const { body } = await call(
      entities('... on Program { id }'),
      { r: [activeProgram.id, other.id].map((id) => ({ __typename: 'Program', id })) },
      tokens.client,
    );
    expect(body.data?._entities).toEqual([{ id: activeProgram.id }, null]);
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toMatchObject({ path: ['_entities', 1], extensions: { code: 'FORBIDDEN' } });
  });

  it('resolves WorkoutPlan and DietPlan references in key order, one statement each', async () => {
    const [p, q] = gym.programs;
    const plans = await measured(
      entities('... on WorkoutPlan { id name sessionsPerWeek }'),
      { r: [q.workoutPlan.id, MISSING, p.workoutPlan.id].map((id) => ({ __typename: 'WorkoutPlan', id })) },
      tokens.client,
    );
    expect(plans.body.data?._entities).toEqual([
      { id: q.workoutPlan.id, name: q.workoutPlan.name, sessionsPerWeek: q.workoutPlan.sessionsPerWeek },
      null,
      { id: p.workoutPlan.id, name: p.workoutPlan.name, sessionsPerWeek: p.workoutPlan.sessionsPerWeek },
    ]);
    expect(plans.statements).toBe(1);
    const diets = await measured(
      entities('... on DietPlan { id dailyCalories }'),
      { r: [MISSING, q.dietPlan.id, p.dietPlan.id].map((id) => ({ __typename: 'DietPlan', id })) },
      tokens.client,
    );
    expect(diets.body.data?._entities).toEqual([
      null,
      { id: q.dietPlan.id, dailyCalories: q.dietPlan.dailyCalories },
      { id: p.dietPlan.id, dailyCalories: p.dietPlan.dailyCalories },
    ]);
    expect(diets.statements).toBe(1);
  });

  it('gives trainerIds: the trainers of programs that are not cancelled', async () => {
    const { body } = await call(entities('... on User { id trainerIds }'), userRefs([client.id, trainer.id, otherClient.id, 'not-a-uuid']), tokens.admin);
    expect(body.errors).toBeUndefined();
    const otherTrainers = [...new Set(gym.programs.filter((p) => p.clientId === otherClient.id).map((p) => p.trainerId))];
    expect(body.data?._entities).toEqual([
      // The cancelled program with otherTrainer does not make them the client's trainer.
      { id: client.id, trainerIds: [trainer.id] },
      { id: trainer.id, trainerIds: [] },
      { id: otherClient.id, trainerIds: otherTrainers },
      { id: 'not-a-uuid', trainerIds: [] },
    ]);
  });

  it('lists all of a user’s programs, newest first, to the user and to admins', async () => {
    const q = entities('... on User { programs { id status } }');
    const expected = [
      { id: CANCELLED, status: 'CANCELLED' },
      ...clientPrograms.sort((a, b) => b.startDate.localeCompare(a.startDate)).map((p) => ({ id: p.id, status: p.status })),
    ];
    for (const token of [tokens.client, tokens.admin]) {
      const { body } = await call(q, userRefs([client.id]), token);
      expect(body.errors).toBeUndefined();
      expect(body.data?._entities[0].programs).toEqual(expected);
    }
    const filtered = await call(entities('... on User { programs(status: COMPLETED, first: 1) { id } }'), userRefs([client.id]), tokens.client);
    expect(filtered.body.data?._entities[0].programs).toEqual([{ id: clientPrograms.find((p) => p.status === 'COMPLETED')!.id }]);
  });

  it('shows a trainer only the programs they run for their client', async () => {
    const { body } = await call(entities('... on User { programs { id trainer { id } } activePrograms { id } }'), userRefs([client.id]), tokens.trainer);
    expect(body.errors).toBeUndefined();
    const [user] = body.data!._entities;
    expect(user.programs.map((p: { id: string }) => p.id).sort()).toEqual(clientPrograms.map((p) => p.id).sort());
    expect(user.programs.every((p: { trainer: { id: string } }) => p.trainer.id === trainer.id)).toBe(true);
    expect(user.activePrograms).toEqual([{ id: activeProgram.id }]);
  });

  it('lists a trainer’s own programs from the trainer side', async () => {
    const { body } = await call(entities('... on User { activePrograms { client { id } } }'), userRefs([trainer.id]), tokens.trainer);
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities[0].activePrograms.map((p: { client: { id: string } }) => p.client.id).sort()).toEqual([...trainerClients].sort());
  });

  it('refuses a client asking for another client’s programs', async () => {
    const { body } = await call(entities('... on User { programs { id } activePrograms { id } }'), userRefs([otherClient.id]), tokens.client);
    expect(body.data?._entities[0]).toEqual({ programs: null, activePrograms: null });
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it('refuses a trainer asking for a stranger’s programs, even one with a cancelled program under them', async () => {
    const stranger = await call(entities('... on User { programs { id } }'), userRefs([otherClient.id]), tokens.trainer);
    expect(stranger.body.data?._entities[0].programs).toBeNull();
    expect(stranger.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const cancelledOnly = await call(entities('... on User { programs { id } }'), userRefs([client.id]), tokens.otherTrainer);
    expect(cancelledOnly.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const otherTrainerSelf = await call(entities('... on User { programs { id } }'), userRefs([trainer.id]), tokens.otherTrainer);
    expect(otherTrainerSelf.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('lists a trainer’s active clients to the trainer and admins only, nothing for clients', async () => {
    const q = entities('... on User { clients { id } }');
    for (const token of [tokens.trainer, tokens.admin]) {
      const { body } = await call(q, userRefs([trainer.id]), token);
      expect(body.errors).toBeUndefined();
      expect(body.data?._entities[0].clients.map((c: { id: string }) => c.id).sort()).toEqual([...trainerClients].sort());
    }
    const limited = await call(entities('... on User { clients(first: 2) { id } }'), userRefs([trainer.id]), tokens.trainer);
    expect(limited.body.data?._entities[0].clients).toHaveLength(2);
    const own = await call(q, userRefs([client.id]), tokens.client);
    expect(own.body.data?._entities[0].clients).toEqual([]);
    for (const token of [tokens.client, tokens.otherTrainer]) {
      const { body } = await call(q, userRefs([trainer.id]), token);
      expect(body.data?._entities[0].clients).toBeNull();
      expect(body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('refuses first outside 0..100', async () => {
    const { body } = await call(entities('... on User { programs(first: 1000) { id } }'), userRefs([client.id]), tokens.client);
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('costs the same SQL statements for 1 user as for 12: programs, activePrograms, clients, trainerIds', async () => {
    const q = entities(`... on User {
      id trainerIds
      programs { id plannedSessions workoutPlan { name } dietPlan { name } client { id } }
      activePrograms { id }
      clients { id }
    }`);
    const one = await measured(q, userRefs([clients[0].id]), tokens.admin);
    const twelve = await measured(q, userRefs(clients.map((c) => c.id)), tokens.admin);
    expect(one.body.errors).toBeUndefined();
    expect(twelve.body.errors).toBeUndefined();
    expect(twelve.body.data?._entities).toHaveLength(12);
    const programCount = twelve.body.data?._entities.reduce((n: number, u: { programs: unknown[] }) => n + u.programs.length, 0);
    expect(programCount).toBe(gym.programs.length + 1);
    // trainerIds, programs, activePrograms, clients, workout plans, diet plans
    expect(one.statements).toBe(6);
    expect(twelve.statements).toBe(one.statements);
  });

  it('costs the same for a trainer over 1 client as over all their clients, access checks included', async () => {
    const q = entities('... on User { programs { id plannedSessions } activePrograms { id } }');
    const one = await measured(q, userRefs(trainerClients.slice(0, 1)), tokens.trainer);
    const all = await measured(q, userRefs(trainerClients), tokens.trainer);
    expect(all.body.errors).toBeUndefined();
    expect(all.body.data?._entities.every((u: { activePrograms: unknown[] }) => u.activePrograms.length === 1)).toBe(true);
    // trainerIds (the access check), programs, activePrograms, workout plans
    expect(one.statements).toBe(4);
    expect(all.statements).toBe(one.statements);
  });
});
