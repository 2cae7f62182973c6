import { randomUUID } from 'node:crypto';
import type { Queryable } from '@fitsync/service-kit';
import { METRICS, type Metric } from './measurements.js';
import { BODY_METRIC_COLUMNS, GOAL_COLUMNS, WORKOUT_LOG_COLUMNS, type AchievementRow, type BodyMetricRow, type GoalRow, type WorkoutLogRow } from './store.js';
import type { WorkoutLogChanges } from './validation.js';

// The SQL that changes progress data. Mutations and event handlers run it in their transaction (`tx`), with the locking reads that decide a change.

/** The latest recorded value of each metric for a client (null when never measured). */
export async function latestValues(tx: Queryable, clientId: string): Promise<Record<Metric, number | null>> {
  const [row] = await tx.query<Record<Metric, number | null>>(
    `SELECT ${METRICS.map((m) => `(SELECT ${m} FROM body_metrics WHERE client_id = $1 AND ${m} IS NOT NULL ORDER BY recorded_at DESC, id DESC LIMIT 1) AS ${m}`).join(', ')}`,
    [clientId],
  );
  return row;
}

export async function insertBodyMetric(tx: Queryable, m: BodyMetricRow): Promise<BodyMetricRow> {
  const [row] = await tx.query<BodyMetricRow>(
    `INSERT INTO body_metrics (id, client_id, recorded_at, weight_kg, body_fat_percentage, muscle_mass_kg, resting_heart_rate, notes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${BODY_METRIC_COLUMNS}`,
    [m.id, m.client_id, m.recorded_at, m.weight_kg, m.body_fat_percentage, m.muscle_mass_kg, m.resting_heart_rate, m.notes],
  );
  return row;
}

export async function activeGoals(tx: Queryable, clientId: string): Promise<GoalRow[]> {
  return tx.query<GoalRow>(`SELECT ${GOAL_COLUMNS} FROM goals WHERE client_id = $1 AND status = 'ACTIVE' ORDER BY created_at, id FOR UPDATE`, [clientId]);
}

/** ACTIVE -> ACHIEVED once: null when another request got there first. */
export async function achieveGoal(tx: Queryable, id: string, at: Date): Promise<GoalRow | null> {
  const [row] = await tx.query<GoalRow>(
    `UPDATE goals SET status = 'ACHIEVED', achieved_at = $2 WHERE id = $1 AND status = 'ACTIVE' RETURNING ${GOAL_COLUMNS}`,
    [id, at],
  );
  return row ?? null;
}

export async function abandonActiveGoals(tx: Queryable, clientId: string, metric: GoalRow['metric']): Promise<void> {
  await tx.query(`UPDATE goals SET status = 'ABANDONED' WHERE client_id = $1 AND metric = $2 AND status = 'ACTIVE'`, [clientId, metric]);
}

export async function insertGoal(
  tx: Queryable,
  g: Pick<GoalRow, 'id' | 'client_id' | 'metric' | 'target_value' | 'start_value' | 'deadline'>,
): Promise<GoalRow> {
  const [row] = await tx.query<GoalRow>(
    `INSERT INTO goals (id, client_id, metric, target_value, start_value, deadline) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GOAL_COLUMNS}`,
    [g.id, g.client_id, g.metric, g.target_value, g.start_value, g.deadline],
  );
  return row;
}

/** The workout log, locked until the transaction ends; null when there is none. */
export async function lockWorkoutLog(tx: Queryable, id: string): Promise<WorkoutLogRow | null> {
  const [row] = await tx.query<WorkoutLogRow>(`SELECT ${WORKOUT_LOG_COLUMNS} FROM workout_logs WHERE id = $1 FOR UPDATE`, [id]);
  return row ?? null;
}

/** Applies a client's changes to a (locked) workout log; any change makes a STUB LOGGED. */
export async function applyWorkoutLogChanges(tx: Queryable, log: WorkoutLogRow, changes: WorkoutLogChanges): Promise<WorkoutLogRow> {
  const next = { ...log, ...changes };
  const [updated] = await tx.query<WorkoutLogRow>(
    `UPDATE workout_logs SET exercises = $2::jsonb, perceived_effort = $3, notes = $4, duration_minutes = $5, status = 'LOGGED'
     WHERE id = $1 RETURNING ${WORKOUT_LOG_COLUMNS}`,
    [log.id, JSON.stringify(next.exercises), next.perceived_effort, next.notes, next.duration_minutes],
  );
  return updated;
}

/** The stub of a completed session, for the client to fill in; null when the booking has one already (`booking_id` is unique). */
export async function insertWorkoutLogStub(
  tx: Queryable,
  stub: Pick<WorkoutLogRow, 'client_id' | 'trainer_id' | 'booking_id' | 'program_id' | 'workout_date' | 'duration_minutes'>,
): Promise<{ id: string } | null> {
  const [created] = await tx.query<{ id: string }>(
    `INSERT INTO workout_logs (id, client_id, trainer_id, booking_id, program_id, workout_date, duration_minutes, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'STUB')
     ON CONFLICT (booking_id) DO NOTHING
     RETURNING id`,
    [randomUUID(), stub.client_id, stub.trainer_id, stub.booking_id, stub.program_id, stub.workout_date, stub.duration_minutes],
  );
  return created ?? null;
}

/** A PROGRAM_COMPLETION achievement; false when the program has one already (a partial unique index). */
export async function insertProgramCompletion(
  tx: Queryable,
  a: Pick<AchievementRow, 'id' | 'client_id' | 'title' | 'description' | 'badge_icon' | 'program_id'> & { earned_at: string | Date },
): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO achievements (id, client_id, type, title, description, badge_icon, program_id, earned_at)
     VALUES ($1, $2, 'PROGRAM_COMPLETION', $3, $4, $5, $6, $7)
     ON CONFLICT (program_id) WHERE type = 'PROGRAM_COMPLETION' DO NOTHING
     RETURNING id`,
    [a.id, a.client_id, a.title, a.description, a.badge_icon, a.program_id, a.earned_at],
  );
  return rows.length > 0;
}
