import {
  UnsubscribeTokenError,
  badInput,
  forbidden,
  isAdmin,
  notFound,
  parseId,
  requireViewer,
  userSecrets,
  verifyUnsubscribeToken,
} from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';
import type { MutationResolvers, NotificationKind } from '../__generated__/resolvers-types.js';
import { assertRecipientOrAdmin } from '../access.js';
import { KINDS, channelsOf, parsePreferenceUpdate, preferencesOf, writePreferences } from '../preferences.js';
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
  updateNotificationPreferences: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    const userId = input.userId ? parseId(input.userId, 'userId') : viewer.id;
    assertRecipientOrAdmin(ctx, userId);
    const update = parsePreferenceUpdate(input);
    return ctx.store.db.transaction(async (tx) => {
      await writePreferences(tx, userId, update, ctx.clock());
      return (await preferencesOf(tx, [userId])).get(userId)!;
    });
  },
  unsubscribe: async (_, { token }, ctx) => {
    let claim;
    try {
      claim = await verifyUnsubscribeToken(token, userSecrets(ctx.services.config), ctx.clock);
    } catch (err) {
      if (!(err instanceof UnsubscribeTokenError)) throw err;
      throw new GraphQLError(err.message, {
        extensions: { code: 'BAD_USER_INPUT', reason: err.reason === 'expired' ? 'EXPIRED_TOKEN' : 'INVALID_TOKEN', field: 'token' },
      });
    }
    // Signed by us, so these hold; checked anyway, as any input.
    if (!(KINDS as readonly string[]).includes(claim.kind) || claim.channel !== 'EMAIL') throw badInput('This unsubscribe link is not valid', 'token');
    // No sign-in needed; signed in, it must be the user the link is for (or an admin).
    if (ctx.viewer && ctx.viewer.id !== claim.userId && !isAdmin(ctx.viewer)) throw forbidden('This unsubscribe link is for another user');
    const kind = claim.kind as NotificationKind;
    return ctx.store.db.transaction(async (tx) => {
      await writePreferences(tx, claim.userId, { email: { [kind]: false }, quietHours: undefined }, ctx.clock());
      const prefs = (await preferencesOf(tx, [claim.userId])).get(claim.userId)!;
      return { kind, channels: channelsOf(prefs, kind) };
    });
  },
};
