import { pageSize, visibleUserId } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

// A user's progress: themself, their trainers, admins.
export const User: UserResolvers = {
  progress: (user, _, ctx) => ctx.store.summary(visibleUserId(ctx, user)),
  achievements: (user, { first }, ctx) => ctx.store.achievements(visibleUserId(ctx, user), pageSize(first, 20)),
  workoutLogs: (user, { first }, ctx) => ctx.store.workoutLogs(visibleUserId(ctx, user), pageSize(first, 20)),
  bodyMetrics: (user, { first }, ctx) => ctx.store.bodyMetrics(visibleUserId(ctx, user), pageSize(first, 20)),
  goals: (user, { status }, ctx) => ctx.store.goals(visibleUserId(ctx, user), status ?? null),
};
