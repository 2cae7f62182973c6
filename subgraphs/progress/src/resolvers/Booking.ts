import { forbidden, parseId, requireViewer } from '@fitsync/service-kit';
import type { BookingResolvers } from '../__generated__/resolvers-types.js';
import { canSeeWorkoutLog } from '../access.js';

export const Booking: BookingResolvers = {
  workoutLog: async (booking, _, ctx) => {
    const viewer = requireViewer(ctx);
    const log = await ctx.store.workoutLogByBooking(parseId(booking.id));
    if (log && !canSeeWorkoutLog(viewer, log)) throw forbidden();
    return log;
  },
};
