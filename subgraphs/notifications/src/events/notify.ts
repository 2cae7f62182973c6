import { randomUUID } from 'node:crypto';
import type { EventEnvelope, HandlerContext } from '@fitsync/events';
import type { NotificationType } from '../__generated__/resolvers-types.js';
import { KIND_OF, preferencesOf } from '../preferences.js';
import { unreadCounts } from '../store.js';
import { insertDeliveries, insertNotifications, type NewDelivery } from '../writes.js';

/** One in-app notification an event gives one user. Names are not copied in: the graph resolves the references at read time. */
export interface Notice {
  recipient_id: string;
  type: NotificationType;
  title: string;
  message: string;
  booking_id?: string | null;
  program_id?: string | null;
  achievement_id?: string | null;
}

/**
 * Stores an event's notifications, one per recipient, tagged with the event's id and
 * correlation id. (event_id, recipient_id) is unique, so the same event handled again
 * adds nothing. Each new notification gets its deliveries in the same transaction: in-app,
 * and email when its recipient wants that kind by email (the sender works those off). Live
 * messages go out for what was really inserted: each notification, and each recipient's new
 * unread count.
 */
export async function notify(
  event: Pick<EventEnvelope, 'event_id' | 'correlation_id' | 'timestamp'>,
  { tx, live, log }: HandlerContext,
  notices: Notice[],
): Promise<void> {
  const byRecipient = new Map(notices.map((n) => [n.recipient_id, n]));
  const rows = [...byRecipient.values()].map((n) => ({
    booking_id: null,
    program_id: null,
    achievement_id: null,
    ...n,
    id: randomUUID(),
    correlation_id: event.correlation_id,
    event_id: event.event_id,
    // When it happened, on the publisher's clock, not when this consumer got round to it.
    created_at: event.timestamp,
  }));
  if (rows.length === 0) return;
  const created = await insertNotifications(tx, rows);
  if (created.length === 0) {
    log.info({ recipients: rows.map((r) => r.recipient_id) }, 'notifications already exist for this event; nothing to do');
    return;
  }
  const recipients = created.map((n) => n.recipient_id);
  const prefs = await preferencesOf(tx, recipients);
  const deliveries: NewDelivery[] = created.flatMap((n) => [
    { id: randomUUID(), notification_id: n.id, recipient_id: n.recipient_id, channel: 'IN_APP' as const, status: 'SENT' as const, at: event.timestamp },
    ...(prefs.get(n.recipient_id)!.email[KIND_OF[n.type]]
      ? [{ id: randomUUID(), notification_id: n.id, recipient_id: n.recipient_id, channel: 'EMAIL' as const, status: 'QUEUED' as const, at: event.timestamp }]
      : []),
  ]);
  await insertDeliveries(tx, deliveries);
  const unread = await unreadCounts(tx, recipients);
  for (const n of created) await live.publish('notificationAdded', { notification_id: n.id, recipient_id: n.recipient_id });
  for (const u of unread) await live.publish('unreadNotificationCountChanged', { user_id: u.recipient_id, count: u.unread });
  log.info({ notifications: created }, `${created.length} notification(s) created`);
}
