import { assertCanSeeUser, forbidden, requireViewer } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { UserRow } from '../db.js';

/** Email and phone: the user themself and admins. */
const privateField = (value: (u: UserRow) => string | null) => (user: UserRow, _: unknown, ctx: Context) => {
  const viewer = requireViewer(ctx);
  if (viewer.id !== user.id && viewer.role !== 'ADMIN') throw forbidden('Only the user and admins can see contact details');
  return value(user);
};

export const User: UserResolvers = {
  __resolveReference: async (ref, ctx) => {
    const user = await ctx.store.userById(ref.id);
    return user && { ...user, trainerIds: 'trainerIds' in ref ? ref.trainerIds : undefined };
  },
  email: privateField((u) => u.email),
  phone: privateField((u) => u.phone),
  avatarUrl: (u) => u.avatar_url,
  createdAt: (u) => u.created_at,
  trainerProfile: (u) => u.trainer_profile,
  clientProfile: (u, _, ctx) => {
    if (!u.client_profile) return null;
    assertCanSeeUser(ctx, u.id, u.trainerIds);
    return u.client_profile;
  },
};
