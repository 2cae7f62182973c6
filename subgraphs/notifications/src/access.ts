import { forbidden, isAdmin, requireViewer, type ViewerContext } from '@fitsync/service-kit';

/**
 * Notifications are private to their recipient: unlike other data about a client,
 * their trainers do not see them. Admins see all.
 */
export function assertRecipientOrAdmin(ctx: ViewerContext, recipientId: string): void {
  const viewer = requireViewer(ctx);
  if (viewer.id !== recipientId && !isAdmin(viewer)) throw forbidden('Only the recipient and admins can see these notifications');
}
