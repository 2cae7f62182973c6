import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';

export const Query: QueryResolvers = {
  notification: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.notificationById(parseId(id));
    if (!row) throw notFound('Notification', id);
    assertRecipientOrAdmin(ctx, row.recipient_id);
    return row;
  },
};
