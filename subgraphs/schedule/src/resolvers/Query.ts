import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertCanSeeBooking } from '../access.js';

export const Query: QueryResolvers = {
  booking: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const booking = await ctx.store.bookingById(parseId(id));
    if (!booking) throw notFound('Booking', id);
    return assertCanSeeBooking(viewer, booking);
  },
};
