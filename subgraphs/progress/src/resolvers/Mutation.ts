import { randomUUID } from 'node:crypto';
import { notFound, parseId, parseInput, requireViewer, type Queryable } from '@fitsync/service-kit';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanEditWorkoutLog, writableClient } from '../access.js';
import type { Context } from '../context.js';
import { GOAL_METRIC_COLUMN, METRICS, MILESTONE_TYPE, reaches, round, type Metric } from '../measurements.js';
import { bodyMetricsInput, goalInput, workoutLogInput } from '../validation.js';
import { abandonActiveGoals, achieveGoal, activeGoals, applyWorkoutLogChanges, insertBodyMetric, insertGoal, latestValues, lockWorkoutLog } from '../writes.js';

type Values = Record<Metric, number | null>;

export const Mutation: MutationResolvers = {
  /** A client fills in a workout log (a STUB from a completed booking becomes LOGGED). */
  updateWorkoutLog: async (_, { id, input }, ctx) => {
    requireViewer(ctx);
    const logId = parseId(id);
    const changes = parseInput(workoutLogInput, input, 'input');
    const row = await ctx.store.db.transaction(async (tx) => {
      const log = await lockWorkoutLog(tx, logId);
      if (!log) throw notFound('WorkoutLog', logId);
      assertCanEditWorkoutLog(ctx, log);
      return applyWorkoutLogChanges(tx, log, changes);
    });
    ctx.log.info({ workout_log_id: row.id, status: row.status, fields: Object.keys(changes) }, 'workout log updated');
    return row;
  },

  recordBodyMetrics: async (_, { input }, ctx) => {
    const now = ctx.clock();
    const { values, recordedAt, notes, clientId: named } = parseInput(bodyMetricsInput(now), input);
    const clientId = await writableClient(ctx, named);
    return ctx.store.db.transaction(async (tx) => {
      const previous = await latestValues(tx, clientId);
      const metric = await insertBodyMetric(tx, { id: randomUUID(), client_id: clientId, recorded_at: recordedAt, ...values, notes });
      await ctx.events.emit(tx, 'progress.updated', progressUpdate(clientId, values, previous));
      await achieveReachedGoals(ctx, tx, clientId, values, previous, now);
      return metric;
    });
  },

  setGoal: async (_, { input }, ctx) => {
    const goal = parseInput(goalInput(ctx.store.today()), input);
    const clientId = await writableClient(ctx, goal.clientId);
    return ctx.store.db.transaction(async (tx) => {
      const column = GOAL_METRIC_COLUMN[goal.metric];
      const startValue = goal.startValue ?? (column ? (await latestValues(tx, clientId))[column] : null);
      await abandonActiveGoals(tx, clientId, goal.metric);
      return insertGoal(tx, {
        id: randomUUID(),
        client_id: clientId,
        metric: goal.metric,
        target_value: round(goal.targetValue, 2),
        start_value: startValue === null ? null : round(startValue, 2),
        deadline: goal.deadline ?? null,
      });
    });
  },
};

/** `progress.updated`: the values measured, and how far each moved since the one before. */
function progressUpdate(clientId: string, values: Values, previous: Values) {
  const newValue: Record<string, number> = {};
  const change: Record<string, number> = {};
  for (const m of METRICS) {
    const v = values[m];
    if (v === null) continue;
    newValue[m] = v;
    const before = previous[m];
    if (before !== null) change[m] = round(v - before, 1);
  }
  return { client_id: clientId, metric_type: 'body_metrics', new_value: newValue, change_from_last: change };
}

/** The client's active goals that the new values reach become ACHIEVED, each announced with `milestone.reached`. */
async function achieveReachedGoals(ctx: Context, tx: Queryable, clientId: string, values: Values, previous: Values, at: Date): Promise<void> {
  for (const goal of await activeGoals(tx, clientId)) {
    const column = GOAL_METRIC_COLUMN[goal.metric];
    const value = column ? values[column] : null;
    if (!column || value === null || !reaches(goal, value, previous[column])) continue;
    if (!(await achieveGoal(tx, goal.id, at))) continue;
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
}
