import { parseId } from '@fitsync/service-kit';
import type { NotificationResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';

export const Notification: NotificationResolvers = {
  __resolveReference: async (ref, ctx) => {
    const row = await ctx.store.notificationById(parseId(ref.id));
    if (row) assertRecipientOrAdmin(ctx, row.recipient_id);
    return row;
  },
  recipient: (n) => ({ id: n.recipient_id }),
  read: (n) => n.read_at !== null,
  readAt: (n) => n.read_at,
  createdAt: (n) => n.created_at,
  booking: (n) => (n.booking_id ? { __typename: 'Booking', id: n.booking_id } : null),
  program: (n) => (n.program_id ? { __typename: 'Program', id: n.program_id } : null),
  achievement: (n) => (n.achievement_id ? { __typename: 'Achievement', id: n.achievement_id } : null),
  correlationId: (n) => n.correlation_id,
  // The notification's own access rule held when it was resolved: its recipient or an admin.
  deliveries: (n, _, ctx) => ctx.store.deliveriesOf(n.id),
};
