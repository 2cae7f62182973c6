import { forbidden, isAdmin, isParty, requireViewer, type Viewer, type ViewerContext } from '@fitsync/service-kit';

/**
 * Rows that carry only a client (metrics, achievements, goals) reached without the
 * client's trainerIds (a root query or an entity reference): the client themself or an
 * admin. Their trainers see them through `User.*`, where training's `trainerIds` arrive.
 */
export function assertClientOrAdmin<R extends { client_id: string }>(ctx: ViewerContext, row: R): R {
  const viewer = requireViewer(ctx);
  if (viewer.id !== row.client_id && !isAdmin(viewer)) throw forbidden();
  return row;
}

/** Workout logs also name their trainer, who is a party to them. */
export const canSeeWorkoutLog = (viewer: Viewer, log: { client_id: string; trainer_id: string | null }) =>
  isParty(viewer, { client_id: log.client_id, trainer_id: log.trainer_id ?? '' });

export function assertCanSeeWorkoutLog<R extends { client_id: string; trainer_id: string | null }>(ctx: ViewerContext, log: R): R {
  if (!canSeeWorkoutLog(requireViewer(ctx), log)) throw forbidden();
  return log;
}

/** A workout log is the client's own record: they fill it in (or an admin does); their trainer only reads it. */
export function assertCanEditWorkoutLog(ctx: ViewerContext, log: { client_id: string }): void {
  const viewer = requireViewer(ctx);
  if (viewer.id !== log.client_id && !isAdmin(viewer)) throw forbidden('Only the client of a workout log (or an admin) can fill it in');
}
