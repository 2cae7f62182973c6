import { liveMessage, notFound, parseId, subscribeThroughGateway } from '@fitsync/service-kit';
import type { Context } from '../context.js';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';

// The gateway holds the subscriptions and sends each live message back through these fields.
export const Subscription: SubscriptionResolvers = {
  notificationAdded: {
    subscribe: subscribeThroughGateway,
    resolve: async (_: unknown, __: unknown, ctx: Context) => {
      const { notification_id } = liveMessage(ctx, 'notificationAdded');
      const row = await ctx.store.notificationById(parseId(notification_id));
      if (!row) throw notFound('Notification', notification_id);
      assertRecipientOrAdmin(ctx, row.recipient_id);
      return row;
    },
  },
  unreadNotificationCountChanged: {
    subscribe: subscribeThroughGateway,
    resolve: (_: unknown, __: unknown, ctx: Context) => {
      const { user_id, count } = liveMessage(ctx, 'unreadNotificationCountChanged');
      assertRecipientOrAdmin(ctx, user_id);
      return count;
    },
  },
};
