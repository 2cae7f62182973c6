import { badInput, pageSize, visibleUserId } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

// A user's schedule: themself, a trainer of theirs, or an admin.
export const User: UserResolvers = {
  bookings: (user, { from, to, status, first }, ctx) => {
    const id = visibleUserId(ctx, user);
    if (from && to && from > to) throw badInput('from must not be after to', 'from');
    return ctx.store.bookingsOf(id, { from: from ?? null, to: to ?? null, status: status ?? null, first: pageSize(first, 20) });
  },
  upcomingBookings: (user, { first }, ctx) => ctx.store.upcomingOf(visibleUserId(ctx, user), pageSize(first, 5)),
  todaySchedule: (user, _, ctx) => ctx.store.todayOf(visibleUserId(ctx, user)),
};
