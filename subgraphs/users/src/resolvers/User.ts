import { assertCanSeeUser } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import { assertCanSeeContactDetails } from '../access.js';
import type { Context } from '../context.js';
import type { UserRow } from '../store.js';

const contactDetail = (value: (u: UserRow) => string | null) => (user: UserRow, _: unknown, ctx: Context) => {
  assertCanSeeContactDetails(ctx, user);
  return value(user);
};

export const User: UserResolvers = {
  __resolveReference: async (ref, ctx) => {
    const user = await ctx.store.userById(ref.id);
    return user && { ...user, trainerIds: 'trainerIds' in ref ? ref.trainerIds : undefined };
  },
  email: contactDetail((u) => u.email),
  phone: contactDetail((u) => u.phone),
  avatarUrl: (u) => u.avatar_url,
  createdAt: (u) => u.created_at,
  // Approval is the account's, not part of the profile a trainer edits.
  trainerProfile: (u) => u.trainer_profile && { ...u.trainer_profile, approved: u.approved_at !== null, approvedAt: u.approved_at },
  clientProfile: (u, _, ctx) => {
    if (!u.client_profile) return null;
    assertCanSeeUser(ctx, u.id, u.trainerIds);
    return u.client_profile;
  },
};
