import { assertCanSeeUser, forbidden, isAdmin, isParty, requireViewer, type Viewer } from '@fitsync/service-kit';
import type { Context } from '../context.js';
import type { ProgramRow } from '../db.js';

/**
 * The user themself, an admin, or a trainer who trains them. Who trains whom is
 * this subgraph's own data: asked through the same batched loader as `User.trainerIds`,
 * and only when the viewer is a trainer looking at someone else.
 */
export async function assertCanSeeUserHere(ctx: Context, userId: string): Promise<Viewer> {
  const viewer = requireViewer(ctx);
  const needsTrainers = viewer.id !== userId && !isAdmin(viewer) && viewer.role === 'TRAINER';
  return assertCanSeeUser(ctx, userId, needsTrainers ? await ctx.store.trainerIdsOf(userId) : []);
}

/** A program's client, its trainer or an admin. */
export function assertProgramParty(ctx: Context, program: ProgramRow): ProgramRow {
  if (!isParty(requireViewer(ctx), program)) throw forbidden('Only the client, the trainer and admins can see this program');
  return program;
}
