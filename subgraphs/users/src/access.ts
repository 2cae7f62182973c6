import { forbidden, isAdmin, requireViewer, type Viewer, type ViewerContext } from '@fitsync/service-kit';
import type { Role } from './store.js';

/**
 * Email and phone: the user themself and admins; and the notifications service on its own
 * (no end user: its mail sender), which needs the address of the people it writes to.
 */
export function assertCanSeeContactDetails(ctx: ViewerContext & { caller?: string }, user: { id: string }): void {
  if (!ctx.viewer && ctx.caller === 'notifications') return;
  const viewer = requireViewer(ctx);
  if (viewer.id !== user.id && !isAdmin(viewer)) throw forbidden('Only the user and admins can see contact details');
}

/** A user changes their own profile; admins change anyone's. */
export function assertCanChangeUser(viewer: Viewer, userId: string): void {
  if (userId !== viewer.id && !isAdmin(viewer)) throw forbidden('Only admins can change another user');
}

/** Anyone signed in looks trainers up; only admins list everyone else. */
export function assertCanListUsers(viewer: Viewer, role: Role | null | undefined): void {
  if (role !== 'TRAINER' && !isAdmin(viewer)) throw forbidden('Only admins can list users other than trainers');
}

/** Approving trainers is for admins. */
export function assertCanApproveTrainers(viewer: Viewer): void {
  if (!isAdmin(viewer)) throw forbidden('Only admins approve trainers');
}
