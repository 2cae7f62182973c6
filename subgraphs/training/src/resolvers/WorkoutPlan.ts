import { requireViewer } from '@fitsync/service-kit';
import type { WorkoutPlanResolvers } from '../__generated__/resolvers-types.js';

export const WorkoutPlan: WorkoutPlanResolvers = {
  __resolveReference: (ref, ctx) => {
    requireViewer(ctx);
    return ctx.store.workoutPlanById(ref.id);
  },
  sessionsPerWeek: (w) => w.sessions_per_week,
};
