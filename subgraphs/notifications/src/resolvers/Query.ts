import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';
import { preferencesOf } from '../preferences.js';

export const Query: QueryResolvers = {
  notification: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.notificationById(parseId(id));
    if (!row) throw notFound('Notification', id);
    assertRecipientOrAdmin(ctx, row.recipient_id);
    return row;
  },
  notificationPreferences: async (_, { userId }, ctx) => {
    const viewer = requireViewer(ctx);
    const id = userId ? parseId(userId, 'userId') : viewer.id;
    assertRecipientOrAdmin(ctx, id);
    return (await preferencesOf(ctx.store.db, [id])).get(id)!;
  },
};
