import { conflict, forbidden, notFound, type Queryable } from '@fitsync/service-kit';
import type { CoachingRow } from './store.js';
import { lockAcceptedCoaching, lockCoaching } from './writes.js';

/** The statuses a coaching relationship may leave, and what it takes to act on one. */

/** The relationship, locked, or NOT_FOUND. */
export async function lockedCoaching(tx: Queryable, id: string): Promise<CoachingRow> {
  const coaching = await lockCoaching(tx, id);
  if (!coaching) throw notFound('Coaching', id);
  return coaching;
}

/** Accepting and declining answer a PENDING request. */
export function assertPending(coaching: CoachingRow, action: string): void {
  if (coaching.status !== 'PENDING') throw conflict(`A request that is ${coaching.status.toLowerCase()} cannot be ${action}`, 'NOT_PENDING');
}

/** Only an ACCEPTED relationship ends (a pending request is declined instead). */
export function assertAccepted(coaching: CoachingRow): void {
  if (coaching.status === 'ENDED') throw conflict('This coaching relationship has already ended', 'ALREADY_ENDED');
  if (coaching.status !== 'ACCEPTED') throw conflict(`A ${coaching.status.toLowerCase()} request cannot be ended: decline it instead`, 'NOT_ACCEPTED');
}

/**
 * The accepted relationship a trainer needs to act for a client (assign a program), held
 * share-locked by the transaction; FORBIDDEN without one, for admins too: no program
 * without the client's consent.
 */
export async function requireCoaching(tx: Queryable, clientId: string, trainerId: string): Promise<CoachingRow> {
  const coaching = await lockAcceptedCoaching(tx, clientId, trainerId);
  if (!coaching) throw forbidden('This trainer does not coach this client: the client must accept a coaching request first');
  return coaching;
}

/** Why a pair has no new request: one is already open. */
export function alreadyOpen(existing: CoachingRow | null) {
  return existing?.status === 'ACCEPTED'
    ? conflict('This trainer already coaches this client', 'ALREADY_COACHING')
    : conflict('A coaching request between these two is already waiting for an answer', 'ALREADY_REQUESTED');
}
