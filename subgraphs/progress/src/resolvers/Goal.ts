import { parseId, requireViewer } from '@fitsync/service-kit';
import type { GoalResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin } from '../access.js';

export const Goal: GoalResolvers = {
  __resolveReference: async (ref, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.goalById(parseId(ref.id));
    return row && assertClientOrAdmin(ctx, row);
  },
  client: (g) => ({ __typename: 'User', id: g.client_id }),
  targetValue: (g) => g.target_value,
  startValue: (g) => g.start_value,
  achievedAt: (g) => g.achieved_at,
  createdAt: (g) => g.created_at,
};
