import { pageSize, parseId } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';

// A malformed id in one representation fails that user alone, not the batched statement for all.
export const User: UserResolvers = {
  notifications: (user, { first, unreadOnly }, ctx) => {
    assertRecipientOrAdmin(ctx, user.id);
    return ctx.store.notificationsOf(parseId(user.id), pageSize(first, 20), unreadOnly ?? false);
  },
  unreadNotificationCount: (user, _, ctx) => {
    assertRecipientOrAdmin(ctx, user.id);
    return ctx.store.unreadCount(parseId(user.id));
  },
};
