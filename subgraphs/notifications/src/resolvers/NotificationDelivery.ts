import type { NotificationDeliveryResolvers } from '../__generated__/resolvers-types.js';

export const NotificationDelivery: NotificationDeliveryResolvers = {
  lastError: (d) => d.last_error,
  nextAttemptAt: (d) => (d.status === 'QUEUED' ? d.next_attempt_at : null),
  sentAt: (d) => d.sent_at,
};
