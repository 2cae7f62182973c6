import { badInput, forbidden, isAdmin, isParty, parseId, requireViewer, type Viewer, type ViewerContext } from '@fitsync/service-kit';
import type { Context } from './context.js';
import { assertIsClient, trainerIdsOf } from './services.js';

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

/**
 * A row reached by its id (an entity reference, a root field): loaded once the viewer is
 * signed in and the id well-formed, returned once `assertVisible` lets the viewer see it;
 * null when there is none.
 */
export async function visibleById<R>(
  ctx: ViewerContext,
  id: string,
  load: (id: string) => Promise<R | null>,
  assertVisible: (ctx: ViewerContext, row: R) => R,
): Promise<R | null> {
  requireViewer(ctx);
  const row = await load(parseId(id));
  return row && assertVisible(ctx, row);
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

/**
 * The client a write (a measurement, a goal) is about: the signed-in client themself (no
 * call needed), or, for an admin, a CLIENT that users knows; for a trainer, also one they
 * train (training knows). Both are asked at once.
 */
export async function writableClient(ctx: Context, named: string | null | undefined): Promise<string> {
  const viewer = requireViewer(ctx);
  const clientId = named ?? viewer.id;
  if (clientId === viewer.id) {
    if (viewer.role !== 'CLIENT') throw badInput('clientId: only clients have body metrics and goals', 'clientId');
    return clientId;
  }
  if (viewer.role === 'CLIENT') throw forbidden('Clients record only their own progress');
  const [, trainers] = await Promise.all([assertIsClient(ctx, clientId), isAdmin(viewer) ? null : trainerIdsOf(ctx, clientId)]);
  if (trainers && !trainers.includes(viewer.id)) throw forbidden('Trainers record progress only for their own clients');
  return clientId;
}
