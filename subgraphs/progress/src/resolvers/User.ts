import { assertCanSeeUser, pageSize, parseId } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { UserRef } from '../store.js';

/** The user's id once the viewer may see their progress (themself, their trainers, admins). */
function visibleId(user: UserRef, ctx: Context): string {
  const id = parseId(user.id);
  assertCanSeeUser(ctx, id, user.trainerIds);
  return id;
}

export const User: UserResolvers = {
  progress: (user, _, ctx) => ctx.store.summary(visibleId(user, ctx)),
  achievements: (user, { first }, ctx) => ctx.store.achievements(visibleId(user, ctx), pageSize(first, 20)),
  workoutLogs: (user, { first }, ctx) => ctx.store.workoutLogs(visibleId(user, ctx), pageSize(first, 20)),
  bodyMetrics: (user, { first }, ctx) => ctx.store.bodyMetrics(visibleId(user, ctx), pageSize(first, 20)),
  goals: (user, { status }, ctx) => ctx.store.goals(visibleId(user, ctx), status ?? null),
};
