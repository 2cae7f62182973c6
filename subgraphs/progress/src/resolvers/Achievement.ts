import type { AchievementResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin, visibleById } from '../access.js';

export const Achievement: AchievementResolvers = {
  __resolveReference: (ref, ctx) => visibleById(ctx, ref.id, (id) => ctx.store.achievementById(id), assertClientOrAdmin),
  client: (a) => ({ __typename: 'User', id: a.client_id }),
  badgeIcon: (a) => a.badge_icon,
  earnedAt: (a) => a.earned_at,
  program: (a) => (a.program_id ? { __typename: 'Program', id: a.program_id } : null),
};
