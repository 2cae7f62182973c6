import { assertCanSeeUser, badInput, pageSize, parseId } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { UserRef } from '../store.js';

/** The user's id, once the viewer may see their schedule: themself, a trainer of theirs, or an admin. */
function visibleUserId(user: UserRef, ctx: Context): string {
  const id = parseId(user.id);
  assertCanSeeUser(ctx, id, user.trainerIds);
  return id;
}

export const User: UserResolvers = {
  bookings: (user, { from, to, status, first }, ctx) => {
    const id = visibleUserId(user, ctx);
    if (from && to && from > to) throw badInput('from must not be after to', 'from');
    return ctx.store.bookingsOf(id, { from: from ?? null, to: to ?? null, status: status ?? null, first: pageSize(first, 20) });
  },
  upcomingBookings: (user, { first }, ctx) => ctx.store.upcomingOf(visibleUserId(user, ctx), pageSize(first, 5)),
  todaySchedule: (user, _, ctx) => ctx.store.todayOf(visibleUserId(user, ctx)),
};
