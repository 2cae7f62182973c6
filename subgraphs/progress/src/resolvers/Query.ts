import { notFound } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin, visibleById } from '../access.js';

export const Query: QueryResolvers = {
  achievement: async (_, { id }, ctx) => {
    const row = await visibleById(ctx, id, (i) => ctx.store.achievementById(i), assertClientOrAdmin);
    if (!row) throw notFound('Achievement', id);
    return row;
  },
};
