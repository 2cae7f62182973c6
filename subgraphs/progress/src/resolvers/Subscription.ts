import { liveMessage, notFound, parseId, subscribeThroughGateway } from '@fitsync/service-kit';
import type { Context } from '../context.js';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin } from '../access.js';

// The gateway holds the subscriptions and sends each live message back through this field.
export const Subscription: SubscriptionResolvers = {
  achievementEarned: {
    subscribe: subscribeThroughGateway,
    resolve: async (_: unknown, __: unknown, ctx: Context) => {
      const { achievement_id } = liveMessage(ctx, 'achievementEarned');
      const row = await ctx.store.achievementById(parseId(achievement_id));
      if (!row) throw notFound('Achievement', achievement_id);
      return assertClientOrAdmin(ctx, row);
    },
  },
};
