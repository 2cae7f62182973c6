import { LIMITS, isAdmin, pageSize, requireViewer } from '@fitsync/service-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';
import { assertCanListClients, assertCanListCoaching, assertCanSeeUserHere } from '../access.js';
import type { Context } from '../context.js';
import type { ProgramStatus } from '../store.js';

/** A trainer looking at a client sees only the programs they run; the user themself and admins see all. */
async function programsFor(ctx: Context, userId: string, status: ProgramStatus | null, first: number) {
  const viewer = await assertCanSeeUserHere(ctx, userId);
  const partyOf = viewer.id === userId || isAdmin(viewer) ? null : viewer.id;
  return ctx.store.programsOf(userId, { status, first, partyOf });
}

export const User: UserResolvers = {
  // Users are owned by the users subgraph; here a User is its key.
  __resolveReference: (ref) => ({ id: ref.id }),
  // Internal (@inaccessible): only other subgraphs' access checks ask for it, never a client.
  trainerIds: (u, _, ctx) => ctx.store.trainerIdsOf(u.id),
  programs: (u, { status, first }, ctx) => programsFor(ctx, u.id, status ?? null, pageSize(first, 20)),
  // No `first`: a trainer's active programs are capped at the largest page.
  activePrograms: (u, _, ctx) => programsFor(ctx, u.id, 'ACTIVE', LIMITS.page),
  clients: async (u, { first }, ctx) => {
    const viewer = requireViewer(ctx);
    assertCanListClients(viewer, u.id);
    const size = pageSize(first, 50);
    // Only trainers have clients; a client asking about themself needs no query.
    if (viewer.id === u.id && viewer.role !== 'TRAINER') return [];
    const ids = await ctx.store.clientIdsOf(u.id, size);
    return ids.map((id) => ({ __typename: 'User' as const, id }));
  },
  coaching: (u, { status, first }, ctx) => {
    assertCanListCoaching(requireViewer(ctx), u.id);
    return ctx.store.coachingOf(u.id, { status: status ?? null, first: pageSize(first, 20) });
  },
};
