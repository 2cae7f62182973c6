import type { Viewer } from './auth.js';
import { forbidden, unauthenticated } from './errors.js';

export interface ViewerContext {
  viewer: Viewer | null;
}

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(ctx: ViewerContext): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}

export const isAdmin = (viewer: Viewer) => viewer.role === 'ADMIN';

/**
 * The access rule of DESIGN.md section 6 for data about one user: the user
 * themself, an admin, or a trainer who trains them. `trainerIds` comes from the
 * training subgraph (through `@requires`), which owns who trains whom.
 */
export function canSeeUser(viewer: Viewer, userId: string, trainerIds: readonly string[] = []): boolean {
  return viewer.id === userId || isAdmin(viewer) || (viewer.role === 'TRAINER' && trainerIds.includes(viewer.id));
}

export function assertCanSeeUser(ctx: ViewerContext, userId: string, trainerIds?: readonly string[] | null): Viewer {
  const viewer = requireViewer(ctx);
  if (!canSeeUser(viewer, userId, trainerIds ?? [])) throw forbidden();
  return viewer;
}

/** The viewer is one of the parties of a record (its client or its trainer), or an admin. */
export function isParty(viewer: Viewer, row: { client_id: string; trainer_id: string }): boolean {
  return isAdmin(viewer) || viewer.id === row.client_id || viewer.id === row.trainer_id;
}
