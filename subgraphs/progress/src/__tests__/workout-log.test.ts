import { randomUUID } from 'node:crypto';
import { createEnvelope } from '@fitsync/events';
import type { Database, RunningSubgraph } from '@fitsync/service-kit';
import { callSubgraph, handleEvent, openTestDatabase, storageBackends, testConfig, testToken, testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkoutLogRow } from '../store.js';
import { onBookingCompleted } from '../events/booking-completed.js';
import { progressSubgraph, startProgress } from '../server.js';

const { clock } = testClock();

const UPDATE = `mutation($id: ID!, $input: UpdateWorkoutLogInput!) {
  updateWorkoutLog(id: $id, input: $input) {
    id status workoutDate durationMinutes perceivedEffort notes
    exercises { name sets reps weightKg }
    booking { id }
    program { id }
    client { id }
  }
}`;

const client = randomUUID();
const trainer = randomUUID();
const otherClient = randomUUID();
const admin = randomUUID();

describe.each(storageBackends())('updateWorkoutLog on %s', (backend) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let server: RunningSubgraph;
  const tokens: Record<'client' | 'trainer' | 'otherClient' | 'admin', string> = {} as never;
  const update = (id: string, input: Record<string, unknown>, token: string | undefined = tokens.client) =>
    callSubgraph(server.url, UPDATE, { id, input }, { token });
  const rowOf = async (id: string) => (await db.query<WorkoutLogRow>('SELECT * FROM workout_logs WHERE id = $1', [id]))[0];

  /** A stub as booking.completed leaves it. */
  async function stub() {
    const event = createEnvelope(
      'booking.completed',
      {
        booking_id: randomUUID(),
        client_id: client,
        trainer_id: trainer,
        program_id: randomUUID(),
        workout_date: '2026-11-24',
        start_time: '07:00:00',
        end_time: '08:00:00',
        duration_minutes: 60,
        trainer_notes: null,
      },
      { source: 'schedule', correlationId: randomUUID() },
    );
    await handleEvent(db, 'progress', onBookingCompleted, event);
    const [row] = await db.query<WorkoutLogRow>('SELECT * FROM workout_logs WHERE booking_id = $1', [event.data.booking_id]);
    return row;
  }

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('progress', progressSubgraph.migrationsDir, backend));
    server = await startProgress(testConfig('progress', backend), { db, clock });
    tokens.client = await testToken({ id: client, role: 'CLIENT' }, clock);
    tokens.trainer = await testToken({ id: trainer, role: 'TRAINER' }, clock);
    tokens.otherClient = await testToken({ id: otherClient, role: 'CLIENT' }, clock);
    tokens.admin = await testToken({ id: admin, role: 'ADMIN' }, clock);
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('the client fills in a stub: exercises, effort, notes and duration; the stub becomes LOGGED', async () => {
    const log = await stub();
    expect(log.status).toBe('STUB');
    const { body } = await update(log.id, {
      exercises: [
        { name: '  Back squat ', sets: 5, reps: 5, weightKg: 100 },
        { name: 'Plank', sets: 3, reps: 1 },
      ],
      perceivedEffort: 8,
      notes: 'Felt strong',
      durationMinutes: 55,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data!.updateWorkoutLog).toEqual({
      id: log.id,
      status: 'LOGGED',
      workoutDate: '2026-11-24',
      durationMinutes: 55,
      perceivedEffort: 8,
      notes: 'Felt strong',
      exercises: [
        { name: 'Back squat', sets: 5, reps: 5, weightKg: 100 },
        { name: 'Plank', sets: 3, reps: 1, weightKg: null },
      ],
      booking: { id: log.booking_id },
      program: { id: log.program_id },
      client: { id: client },
    });
    expect(await rowOf(log.id)).toMatchObject({ status: 'LOGGED', perceived_effort: 8, duration_minutes: 55, notes: 'Felt strong', trainer_id: trainer });
  });

  it('fields left out stay as they are; null clears one', async () => {
    const log = await stub();
    await update(log.id, { perceivedEffort: 6, notes: 'Tired' });
    const { body } = await update(log.id, { notes: null });
    expect(body.data!.updateWorkoutLog).toMatchObject({ perceivedEffort: 6, notes: null, durationMinutes: 60, exercises: [], status: 'LOGGED' });
  });

  it('an admin may fill it in too', async () => {
    const log = await stub();
    const { body } = await update(log.id, { durationMinutes: 45 }, tokens.admin);
    expect(body.data!.updateWorkoutLog).toMatchObject({ durationMinutes: 45, status: 'LOGGED' });
  });

  it('the trainer and other clients get FORBIDDEN, without a token UNAUTHENTICATED; the log is unchanged', async () => {
    const log = await stub();
    for (const [token, code] of [
      [tokens.trainer, 'FORBIDDEN'],
      [tokens.otherClient, 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
    ] as const) {
      const { body } = await callSubgraph(server.url, UPDATE, { id: log.id, input: { notes: 'not mine' } }, { token });
      expect(body.errors?.[0]?.extensions?.code, String(code)).toBe(code);
      expect(body.data).toBeNull();
    }
    expect(await rowOf(log.id)).toEqual(log);
  });

  it('an unknown log is NOT_FOUND', async () => {
    const { body } = await update(randomUUID(), { notes: 'x' });
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it.each([
    ['no field at all', {}, 'input'],
    ['effort above 10', { perceivedEffort: 11 }, 'perceivedEffort'],
    ['effort below 1', { perceivedEffort: 0 }, 'perceivedEffort'],
    ['no duration', { durationMinutes: 0 }, 'durationMinutes'],
    ['a ten-hour-plus duration', { durationMinutes: 601 }, 'durationMinutes'],
    ['an exercise without a name', { exercises: [{ name: '  ', sets: 3, reps: 10 }] }, 'exercises[0].name'],
    [
      'zero sets',
      {
        exercises: [
          { name: 'Row', sets: 3, reps: 10 },
          { name: 'Press', sets: 0, reps: 10 },
        ],
      },
      'exercises[1].sets',
    ],
    ['negative reps', { exercises: [{ name: 'Row', sets: 3, reps: -1 }] }, 'exercises[0].reps'],
    ['a negative weight', { exercises: [{ name: 'Row', sets: 3, reps: 8, weightKg: -5 }] }, 'exercises[0].weightKg'],
    ['too many exercises', { exercises: Array.from({ length: 51 }, () => ({ name: 'Row', sets: 1, reps: 1 })) }, 'exercises'],
    ['notes too long', { notes: 'x'.repeat(2001) }, 'notes'],
  ])('%s is BAD_USER_INPUT and changes nothing', async (_, input, field) => {
    const log = await stub();
    const { body } = await update(log.id, input);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await rowOf(log.id)).toEqual(log);
  });

  it('a malformed id is BAD_USER_INPUT', async () => {
    const { body } = await update('not-a-uuid', { notes: 'x' });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
