import type { Queryable } from '@fitsync/service-kit';
import { BODY_METRIC_COLUMNS, GOAL_COLUMNS, type BodyMetricRow, type GoalRow } from './db.js';

/** The measured metrics, by the snake_case names events and columns share. */
export const METRICS = ['weight_kg', 'body_fat_percentage', 'muscle_mass_kg', 'resting_heart_rate'] as const;
export type Metric = (typeof METRICS)[number];

/** Goal metrics that a body measurement can reach. */
export const GOAL_METRIC_COLUMN: Partial<Record<GoalRow['metric'], Metric>> = {
  WEIGHT_KG: 'weight_kg',
  BODY_FAT_PERCENTAGE: 'body_fat_percentage',
  MUSCLE_MASS_KG: 'muscle_mass_kg',
};

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
  const [row] = await tx.query<GoalRow>(`UPDATE goals SET status = 'ACHIEVED', achieved_at = $2 WHERE id = $1 AND status = 'ACTIVE' RETURNING ${GOAL_COLUMNS}`, [id, at]);
  return row ?? null;
}

export async function abandonActiveGoals(tx: Queryable, clientId: string, metric: GoalRow['metric']): Promise<void> {
  await tx.query(`UPDATE goals SET status = 'ABANDONED' WHERE client_id = $1 AND metric = $2 AND status = 'ACTIVE'`, [clientId, metric]);
}

export async function insertGoal(tx: Queryable, g: Pick<GoalRow, 'id' | 'client_id' | 'metric' | 'target_value' | 'start_value' | 'deadline'>): Promise<GoalRow> {
  const [row] = await tx.query<GoalRow>(
    `INSERT INTO goals (id, client_id, metric, target_value, start_value, deadline) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GOAL_COLUMNS}`,
    [g.id, g.client_id, g.metric, g.target_value, g.start_value, g.deadline],
  );
  return row;
}

/**
 * A goal is reached when the value gets to its target from the side it started on
 * (losing weight: at or below; gaining muscle: at or above). Without a start value the
 * previous measurement tells the side; without either, only the target itself counts.
 */
export function reaches(goal: GoalRow, value: number, previous: number | null): boolean {
  const from = goal.start_value ?? previous;
  if (from === null) return value === goal.target_value;
  return from >= goal.target_value ? value <= goal.target_value : value >= goal.target_value;
}
