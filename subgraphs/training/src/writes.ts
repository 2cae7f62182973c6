import { randomUUID } from 'node:crypto';
import { updateById, type Queryable } from '@fitsync/service-kit';
import { COACHING_COLUMNS, PROGRAM_COLUMNS, type CoachingRow, type ProgramRow } from './store.js';
import type { AssignProgramInput, DietPlanInput, WorkoutPlanInput } from './validation.js';

// The SQL that changes programs and plans. Mutations run it in their transaction (`tx`), with the locking reads that decide a change.

export async function insertWorkoutPlan(tx: Queryable, p: WorkoutPlanInput): Promise<string> {
  const id = randomUUID();
  const exercises = (p.exercises ?? []).map((e) => ({ name: e.name, sets: e.sets, reps: e.reps, restSeconds: e.restSeconds ?? null, notes: e.notes ?? null }));
  await tx.query('INSERT INTO workout_plans (id, name, sessions_per_week, exercises, notes) VALUES ($1, $2, $3, $4, $5)', [
    id,
    p.name,
    p.sessionsPerWeek,
    JSON.stringify(exercises),
    p.notes ?? null,
  ]);
  return id;
}

export async function insertDietPlan(tx: Queryable, p: DietPlanInput): Promise<string> {
  const id = randomUUID();
  await tx.query('INSERT INTO diet_plans (id, name, daily_calories, protein_grams, carbs_grams, fat_grams, notes) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    id,
    p.name,
    p.dailyCalories,
    p.proteinGrams ?? null,
    p.carbsGrams ?? null,
    p.fatGrams ?? null,
    p.notes ?? null,
  ]);
  return id;
}

export async function insertProgram(
  tx: Queryable,
  p: Pick<ProgramRow, 'id' | 'client_id' | 'trainer_id' | 'name' | 'description' | 'start_date' | 'duration_weeks' | 'workout_plan_id' | 'diet_plan_id'>,
): Promise<ProgramRow> {
  const [row] = await tx.query<ProgramRow>(
    `INSERT INTO programs (id, client_id, trainer_id, name, description, start_date, duration_weeks, workout_plan_id, diet_plan_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PROGRAM_COLUMNS}`,
    [p.id, p.client_id, p.trainer_id, p.name, p.description, p.start_date, p.duration_weeks, p.workout_plan_id, p.diet_plan_id],
  );
  return row;
}

/** A new program with the plans it comes with (plans first: the program references them). */
export async function insertProgramWithPlans(tx: Queryable, data: AssignProgramInput, trainerId: string): Promise<ProgramRow> {
  return insertProgram(tx, {
    id: randomUUID(),
    client_id: data.clientId,
    trainer_id: trainerId,
    name: data.name,
    description: data.description ?? null,
    start_date: data.startDate,
    duration_weeks: data.durationWeeks,
    workout_plan_id: data.workoutPlan ? await insertWorkoutPlan(tx, data.workoutPlan) : null,
    diet_plan_id: data.dietPlan ? await insertDietPlan(tx, data.dietPlan) : null,
  });
}

/** The program, locked until the transaction ends. */
export async function lockProgram(tx: Queryable, id: string): Promise<ProgramRow | null> {
  const [row] = await tx.query<ProgramRow>(`SELECT ${PROGRAM_COLUMNS} FROM programs WHERE id = $1 FOR UPDATE`, [id]);
  return row ?? null;
}

/** Sets the given columns and `updated_at` of a program the transaction has locked. */
export async function updateProgram(tx: Queryable, id: string, set: Partial<Record<keyof ProgramRow, unknown>>): Promise<ProgramRow> {
  return (await updateById<ProgramRow>(tx, 'programs', id, set, PROGRAM_COLUMNS))!;
}

// ---------- coaching ----------

/**
 * A new PENDING request; null when the pair already has an open (pending or accepted) one:
 * the partial unique index decides, so two requests racing cannot both get in.
 */
export async function insertCoachingRequest(
  tx: Queryable,
  c: Pick<CoachingRow, 'client_id' | 'trainer_id' | 'requested_by' | 'requested_at'>,
): Promise<CoachingRow | null> {
  const [row] = await tx.query<CoachingRow>(
    `INSERT INTO coaching_relationships (id, client_id, trainer_id, status, requested_by, requested_at, updated_at)
     VALUES ($1, $2, $3, 'PENDING', $4, $5, $5)
     ON CONFLICT (client_id, trainer_id) WHERE status IN ('PENDING', 'ACCEPTED') DO NOTHING
     RETURNING ${COACHING_COLUMNS}`,
    [randomUUID(), c.client_id, c.trainer_id, c.requested_by, c.requested_at],
  );
  return row ?? null;
}

/** The pair's open request or relationship, if any. */
export async function openCoachingBetween(tx: Queryable, clientId: string, trainerId: string): Promise<CoachingRow | null> {
  const [row] = await tx.query<CoachingRow>(
    `SELECT ${COACHING_COLUMNS} FROM coaching_relationships WHERE client_id = $1 AND trainer_id = $2 AND status IN ('PENDING', 'ACCEPTED')`,
    [clientId, trainerId],
  );
  return row ?? null;
}

/** The relationship, locked until the transaction ends. */
export async function lockCoaching(tx: Queryable, id: string): Promise<CoachingRow | null> {
  const [row] = await tx.query<CoachingRow>(`SELECT ${COACHING_COLUMNS} FROM coaching_relationships WHERE id = $1 FOR UPDATE`, [id]);
  return row ?? null;
}

/**
 * The pair's ACCEPTED relationship, share-locked: a program assigned under it commits
 * before the relationship can end, so ending it always sees (and cancels) that program.
 */
export async function lockAcceptedCoaching(tx: Queryable, clientId: string, trainerId: string): Promise<CoachingRow | null> {
  const [row] = await tx.query<CoachingRow>(
    `SELECT ${COACHING_COLUMNS} FROM coaching_relationships WHERE client_id = $1 AND trainer_id = $2 AND status = 'ACCEPTED' FOR SHARE`,
    [clientId, trainerId],
  );
  return row ?? null;
}

/** Sets the given columns and `updated_at` of a relationship the transaction has locked. */
export async function updateCoaching(tx: Queryable, id: string, set: Partial<Record<keyof CoachingRow, unknown>>): Promise<CoachingRow> {
  return (await updateById<CoachingRow>(tx, 'coaching_relationships', id, set, COACHING_COLUMNS))!;
}

/** Cancels the pair's ACTIVE and PAUSED programs; returns them as they are now. */
export async function cancelOpenProgramsOf(tx: Queryable, clientId: string, trainerId: string, at: Date): Promise<ProgramRow[]> {
  return tx.query<ProgramRow>(
    `UPDATE programs SET status = 'CANCELLED', updated_at = $3
     WHERE client_id = $1 AND trainer_id = $2 AND status IN ('ACTIVE', 'PAUSED')
     RETURNING ${PROGRAM_COLUMNS}`,
    [clientId, trainerId, at],
  );
}
