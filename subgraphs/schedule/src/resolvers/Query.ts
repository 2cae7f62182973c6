import { forbidden, isParty, notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  booking: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const booking = await ctx.store.bookingById(parseId(id));
    if (!booking) throw notFound('Booking', id);
    if (!isParty(viewer, booking)) throw forbidden('Only the client, the trainer and admins can see a booking');
    return booking;
  },
};
