import type { Viewer } from './auth.js';
import { forbidden, unauthenticated } from './errors.js';
import { parseId } from './input.js';

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

/**
 * The id of a User representation whose data the viewer may see (themself, an admin, a
 * trainer of theirs: `trainerIds` come from training through `@requires`). A malformed id
 * fails that user alone, not the batched statement for every user.
 */
export function visibleUserId(ctx: ViewerContext, user: { id: string; trainerIds?: readonly string[] | null }): string {
  const id = parseId(user.id);
  assertCanSeeUser(ctx, id, user.trainerIds);
  return id;
}

/** The viewer is one of the parties of a record (its client or its trainer), or an admin. */
export function isParty(viewer: Viewer, row: { client_id: string; trainer_id: string }): boolean {
  return isAdmin(viewer) || viewer.id === row.client_id || viewer.id === row.trainer_id;
}
