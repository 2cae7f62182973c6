import { parseId, requireViewer } from '@fitsync/service-kit';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanEditWorkoutLog } from '../access.js';
import { parseWorkoutLogInput } from '../workout-log-input.js';

export const Mutation: MutationResolvers = {
  updateWorkoutLog: async (_, { id, input }, ctx) => {
    requireViewer(ctx);
    const logId = parseId(id);
    const changes = parseWorkoutLogInput(input);
    const row = await ctx.store.updateWorkoutLog(logId, changes, (log) => assertCanEditWorkoutLog(ctx, log));
    ctx.log.info({ workout_log_id: row.id, status: row.status, fields: Object.keys(changes) }, 'workout log updated');
    return row;
  },
};
