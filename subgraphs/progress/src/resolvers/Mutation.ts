import { randomUUID } from 'node:crypto';
import { badInput, notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanEditWorkoutLog } from '../access.js';
import { GOAL_METRIC_COLUMN, METRICS, reaches, type Metric } from '../measurements.js';
import { writableClient } from '../services.js';
import { parseWorkoutLogInput } from '../validation.js';
import { abandonActiveGoals, achieveGoal, activeGoals, insertBodyMetric, insertGoal, latestValues, applyWorkoutLogChanges, lockWorkoutLog } from '../writes.js';

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Bounds that match the columns' checks, so a bad value is BAD_USER_INPUT, never a constraint error. */
const BOUNDS: Record<Metric, [number, number, string]> = {
  weight_kg: [1, 9999, 'weightKg'],
  body_fat_percentage: [0, 100, 'bodyFatPercentage'],
  muscle_mass_kg: [1, 9999, 'muscleMassKg'],
  resting_heart_rate: [20, 250, 'restingHeartRate'],
};

const MILESTONE_TYPE: Record<string, string> = { weight_kg: 'weight_goal', body_fat_percentage: 'body_fat_goal', muscle_mass_kg: 'muscle_mass_goal' };

/** A client fills in a workout log (a STUB from a completed booking becomes LOGGED). */
const updateWorkoutLog: MutationResolvers['updateWorkoutLog'] = async (_, { id, input }, ctx) => {
  requireViewer(ctx);
  const logId = parseId(id);
  const changes = parseWorkoutLogInput(input);
  const row = await ctx.store.db.transaction(async (tx) => {
    const log = await lockWorkoutLog(tx, logId);
    if (!log) throw notFound('WorkoutLog', logId);
    assertCanEditWorkoutLog(ctx, log);
    return applyWorkoutLogChanges(tx, log, changes);
  });
  ctx.log.info({ workout_log_id: row.id, status: row.status, fields: Object.keys(changes) }, 'workout log updated');
  return row;
};

export const Mutation: MutationResolvers = {
  updateWorkoutLog,
  recordBodyMetrics: async (_, { input }, ctx) => {
    const values: Record<Metric, number | null> = {
      weight_kg: input.weightKg ?? null,
      body_fat_percentage: input.bodyFatPercentage ?? null,
      muscle_mass_kg: input.muscleMassKg ?? null,
      resting_heart_rate: input.restingHeartRate ?? null,
    };
    for (const m of METRICS) {
      const v = values[m];
      const [min, max, field] = BOUNDS[m];
      if (v !== null && !(v >= min && v <= max)) throw badInput(`${field} must be between ${min} and ${max}`, field);
      if (v !== null) values[m] = m === 'resting_heart_rate' ? v : round(v, 1);
    }
    if (METRICS.every((m) => values[m] === null)) throw badInput('Record at least one measurement', 'weightKg');
    const now = ctx.clock();
    const recordedAt = input.recordedAt ? new Date(input.recordedAt) : now;
    if (recordedAt.getTime() > now.getTime() + 60_000) throw badInput('recordedAt must not be in the future', 'recordedAt');
    const notes = input.notes?.trim() || null;
    if (notes && notes.length > 2000) throw badInput('notes must be at most 2000 characters', 'notes');
    const clientId = await writableClient(ctx, input.clientId);

    return ctx.store.db.transaction(async (tx) => {
      const previous = await latestValues(tx, clientId);
      const metric = await insertBodyMetric(tx, { id: randomUUID(), client_id: clientId, recorded_at: recordedAt, ...values, notes });
      const newValue: Record<string, number> = {};
      const change: Record<string, number> = {};
      for (const m of METRICS) {
        const v = values[m];
        if (v === null) continue;
        newValue[m] = v;
        const before = previous[m];
        if (before !== null) change[m] = round(v - before, 1);
      }
      await ctx.events.emit(tx, 'progress.updated', { client_id: clientId, metric_type: 'body_metrics', new_value: newValue, change_from_last: change });
      for (const goal of await activeGoals(tx, clientId)) {
        const column = GOAL_METRIC_COLUMN[goal.metric];
        const value = column ? values[column] : null;
        if (!column || value === null || !reaches(goal, value, previous[column])) continue;
        const achieved = await achieveGoal(tx, goal.id, now);
        if (!achieved) continue;
        await ctx.events.emit(tx, 'milestone.reached', {
          client_id: clientId,
          goal_id: goal.id,
          milestone_type: MILESTONE_TYPE[column],
          metric: column,
          target_value: goal.target_value,
          achieved_value: value,
          previous_value: previous[column],
        });
      }
      return metric;
    });
  },

  setGoal: async (_, { input }, ctx) => {
    if (!Number.isFinite(input.targetValue) || input.targetValue <= 0 || input.targetValue >= 100_000) throw badInput('targetValue must be a positive number', 'targetValue');
    if (input.metric === 'BODY_FAT_PERCENTAGE' && input.targetValue > 100) throw badInput('targetValue must be a percentage', 'targetValue');
    if (input.startValue != null && !(input.startValue > 0 && input.startValue < 100_000)) throw badInput('startValue must be a positive number', 'startValue');
    if (input.deadline && input.deadline < ctx.store.today()) throw badInput('deadline must not be in the past', 'deadline');
    const clientId = await writableClient(ctx, input.clientId);
    return ctx.store.db.transaction(async (tx) => {
      const column = GOAL_METRIC_COLUMN[input.metric];
      const startValue = input.startValue ?? (column ? (await latestValues(tx, clientId))[column] : null);
      await abandonActiveGoals(tx, clientId, input.metric);
      return insertGoal(tx, {
        id: randomUUID(),
        client_id: clientId,
        metric: input.metric,
        target_value: round(input.targetValue, 2),
        start_value: startValue === null ? null : round(startValue, 2),
        deadline: input.deadline ?? null,
      });
    });
  },
};
