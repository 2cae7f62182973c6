import { forbidden, liveMessage, notFound, parseId, requireViewer, isParty, subscribeThroughGateway } from '@fitsync/service-kit';
import type { Context } from '../context.js';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';

// The gateway holds the subscriptions and sends each live message back through this field.
export const Subscription: SubscriptionResolvers = {
  bookingChanged: {
    subscribe: subscribeThroughGateway,
    resolve: async (_: unknown, __: unknown, ctx: Context) => {
      const viewer = requireViewer(ctx);
      const { booking_id, change, at } = liveMessage(ctx, 'bookingChanged');
      const booking = await ctx.store.bookingById(parseId(booking_id));
      if (!booking) throw notFound('Booking', booking_id);
      if (!isParty(viewer, booking)) throw forbidden('Only the client and the trainer of a booking follow its changes');
      return { change, booking, at: at ?? ctx.clock().toISOString() };
    },
  },
};
