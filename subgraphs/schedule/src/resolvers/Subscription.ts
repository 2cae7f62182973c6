import { liveMessage, notFound, parseId, requireViewer, subscribeThroughGateway } from '@fitsync/service-kit';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import { assertCanSeeBooking } from '../access.js';
import type { Context } from '../context.js';

// The gateway holds the subscriptions and sends each live message back through this field.
export const Subscription: SubscriptionResolvers = {
  bookingChanged: {
    subscribe: subscribeThroughGateway,
    resolve: async (_: unknown, __: unknown, ctx: Context) => {
      const viewer = requireViewer(ctx);
      const { booking_id, change, at } = liveMessage(ctx, 'bookingChanged');
      const booking = await ctx.store.bookingById(parseId(booking_id));
      if (!booking) throw notFound('Booking', booking_id);
      assertCanSeeBooking(viewer, booking, 'Only the client and the trainer of a booking follow its changes');
      return { change, booking, at: at ?? ctx.clock().toISOString() };
    },
  },
};
