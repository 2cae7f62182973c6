import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';
import { markAllRead, markRead } from '../writes.js';

export const Mutation: MutationResolvers = {
  markNotificationRead: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const notificationId = parseId(id);
    const existing = await ctx.store.notificationById(notificationId);
    if (!existing) throw notFound('Notification', id);
    assertRecipientOrAdmin(ctx, existing.recipient_id);
    if (existing.read_at) return existing;
    return (await markRead(ctx.store.db, notificationId, ctx.clock())) ?? existing;
  },
  markAllNotificationsRead: (_, __, ctx) => markAllRead(ctx.store.db, requireViewer(ctx).id, ctx.clock()),
};
