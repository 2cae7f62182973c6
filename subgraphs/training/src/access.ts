import { assertCanSeeUser, badInput, forbidden, isAdmin, isParty, requireViewer, type Viewer } from '@fitsync/service-kit';
import type { Context } from './context.js';
import type { CoachingRow, ProgramRow } from './store.js';

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

/** Only the program's trainer and admins change a program. */
export function assertCanChangeProgram(viewer: Viewer, program: ProgramRow): void {
  if (!isAdmin(viewer) && viewer.id !== program.trainer_id) throw forbidden('Only the trainer of this program and admins can change it');
}

/** Whether a client has an active program with a trainer: the two of them and admins may ask. */
export function assertCanAskAboutPair(viewer: Viewer, clientId: string, trainerId: string): void {
  if (!isAdmin(viewer) && viewer.id !== clientId && viewer.id !== trainerId) throw forbidden('Only the client, the trainer and admins can ask');
}

/** A trainer's clients: the trainer themself and admins. */
export function assertCanListClients(viewer: Viewer, trainerId: string): void {
  if (viewer.id !== trainerId && !isAdmin(viewer)) throw forbidden('Only the trainer and admins can list their clients');
}

/** Trainers and admins assign programs. */
export function assertCanAssignPrograms(viewer: Viewer): void {
  if (viewer.role === 'CLIENT') throw forbidden('Only trainers and admins assign programs');
}

/** Who a new program's trainer is: a trainer assigns as themselves, an admin names one. */
export function assigningTrainer(viewer: Viewer, named: string | null | undefined): string {
  const trainerId = named ?? (viewer.role === 'TRAINER' ? viewer.id : null);
  if (!trainerId) throw badInput('trainerId: an admin must name the trainer', 'trainerId');
  if (viewer.role === 'TRAINER' && trainerId !== viewer.id) throw forbidden('Trainers assign programs as themselves');
  return trainerId;
}

/**
 * Who a coaching request is between: a trainer asks as themself and names the client, a
 * client asks as themself and names the trainer, an admin names both. Nobody coaches themself.
 */
export function requestingPair(viewer: Viewer, named: { clientId?: string | null; trainerId?: string | null }): { clientId: string; trainerId: string } {
  const clientId = named.clientId ?? (viewer.role === 'CLIENT' ? viewer.id : null);
  const trainerId = named.trainerId ?? (viewer.role === 'TRAINER' ? viewer.id : null);
  if (viewer.role === 'CLIENT' && clientId !== viewer.id) throw forbidden('Clients ask for coaching for themselves');
  if (viewer.role === 'TRAINER' && trainerId !== viewer.id) throw forbidden('Trainers ask for coaching as themselves');
  if (!clientId) throw badInput('clientId: name the client to coach', 'clientId');
  if (!trainerId) throw badInput('trainerId: name the trainer to ask', 'trainerId');
  if (clientId === trainerId)
    throw badInput('clientId and trainerId must be different users: nobody coaches themself', viewer.role === 'TRAINER' ? 'clientId' : 'trainerId');
  return { clientId, trainerId };
}

/** A relationship's client, its trainer or an admin. */
export function assertCoachingParty(viewer: Viewer, coaching: CoachingRow): void {
  if (!isParty(viewer, coaching)) throw forbidden('Only the client, the trainer and admins can see or change this coaching relationship');
}

/** A request is accepted by the side that did not make it, or by an admin. */
export function assertCanAcceptCoaching(viewer: Viewer, coaching: CoachingRow): void {
  assertCoachingParty(viewer, coaching);
  if (!isAdmin(viewer) && viewer.id === coaching.requested_by)
    throw forbidden('This request is addressed to the other side: only they (or an admin) can accept it');
}

/** A user's relationships and requests: the user themself and admins. */
export function assertCanListCoaching(viewer: Viewer, userId: string): void {
  if (viewer.id !== userId && !isAdmin(viewer)) throw forbidden('Only the user and admins can list their coaching relationships');
}
