import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin } from '../access.js';

export const Query: QueryResolvers = {
  achievement: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.achievementById(parseId(id));
    if (!row) throw notFound('Achievement', id);
    return assertClientOrAdmin(ctx, row);
  },
};
