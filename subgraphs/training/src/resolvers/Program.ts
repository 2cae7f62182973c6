import type { ProgramResolvers } from '../__generated__/resolvers-types.js';
import { assertProgramParty } from '../access.js';
import { endDateOf, plannedSessionsOf } from '../lifecycle.js';

export const Program: ProgramResolvers = {
  __resolveReference: async (ref, ctx) => {
    const program = await ctx.store.programById(ref.id);
    return program && assertProgramParty(ctx, program);
  },
  client: (p) => ({ __typename: 'User', id: p.client_id }),
  trainer: (p) => ({ __typename: 'User', id: p.trainer_id }),
  startDate: (p) => p.start_date,
  endDate: (p) => endDateOf(p),
  durationWeeks: (p) => p.duration_weeks,
  plannedSessions: async (p, _, ctx) => plannedSessionsOf(p, p.workout_plan_id ? await ctx.store.workoutPlanById(p.workout_plan_id) : null),
  adherenceRate: (p) => p.adherence_rate,
  completedAt: (p) => p.completed_at,
  workoutPlan: (p, _, ctx) => (p.workout_plan_id ? ctx.store.workoutPlanById(p.workout_plan_id) : null),
  dietPlan: (p, _, ctx) => (p.diet_plan_id ? ctx.store.dietPlanById(p.diet_plan_id) : null),
  createdAt: (p) => p.created_at,
  updatedAt: (p) => p.updated_at,
};
