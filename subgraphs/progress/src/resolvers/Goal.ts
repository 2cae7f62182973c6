import type { GoalResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin, visibleById } from '../access.js';

export const Goal: GoalResolvers = {
  __resolveReference: (ref, ctx) => visibleById(ctx, ref.id, (id) => ctx.store.goalById(id), assertClientOrAdmin),
  client: (g) => ({ __typename: 'User', id: g.client_id }),
  targetValue: (g) => g.target_value,
  startValue: (g) => g.start_value,
  achievedAt: (g) => g.achieved_at,
  createdAt: (g) => g.created_at,
};
