import { parseId, requireViewer } from '@fitsync/service-kit';
import type { AchievementResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin } from '../access.js';

export const Achievement: AchievementResolvers = {
  __resolveReference: async (ref, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.achievementById(parseId(ref.id));
    return row && assertClientOrAdmin(ctx, row);
  },
  client: (a) => ({ __typename: 'User', id: a.client_id }),
  badgeIcon: (a) => a.badge_icon,
  earnedAt: (a) => a.earned_at,
  program: (a) => (a.program_id ? { __typename: 'Program', id: a.program_id } : null),
};
