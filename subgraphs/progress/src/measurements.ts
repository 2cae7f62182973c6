import type { GoalRow } from './store.js';

/** The measured metrics, by the snake_case names events and columns share. */
export const METRICS = ['weight_kg', 'body_fat_percentage', 'muscle_mass_kg', 'resting_heart_rate'] as const;
export type Metric = (typeof METRICS)[number];

/** Goal metrics that a body measurement can reach. */
export const GOAL_METRIC_COLUMN: Partial<Record<GoalRow['metric'], Metric>> = {
  WEIGHT_KG: 'weight_kg',
  BODY_FAT_PERCENTAGE: 'body_fat_percentage',
  MUSCLE_MASS_KG: 'muscle_mass_kg',
};

/** What kind of milestone reaching a goal on a metric is (`milestone.reached`). */
export const MILESTONE_TYPE: Record<string, string> = { weight_kg: 'weight_goal', body_fat_percentage: 'body_fat_goal', muscle_mass_kg: 'muscle_mass_goal' };

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

export const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
