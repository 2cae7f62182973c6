import type { Queryable } from '@fitsync/service-kit';
import type { NotificationType } from './__generated__/resolvers-types.js';
import { NOTIFICATION_COLUMNS, type NotificationRow } from './store.js';

// The SQL that changes notifications. Mutations and event handlers run it in their transaction (`tx`), or alone on the database when it is one statement.

/** Stamps `read_at` once: a notification already read keeps its first time. */
export async function markRead(tx: Queryable, id: string, at: Date): Promise<NotificationRow | null> {
  const [row] = await tx.query<NotificationRow>(`UPDATE notifications SET read_at = COALESCE(read_at, $2) WHERE id = $1 RETURNING ${NOTIFICATION_COLUMNS}`, [
    id,
    at,
  ]);
  return row ?? null;
}

/** Marks every unread notification of a user read; how many changed. */
export async function markAllRead(tx: Queryable, recipientId: string, at: Date): Promise<number> {
  const rows = await tx.query('UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL RETURNING id', [recipientId, at]);
  return rows.length;
}

export type NewNotification = Pick<
  NotificationRow,
  'id' | 'recipient_id' | 'type' | 'title' | 'message' | 'booking_id' | 'program_id' | 'achievement_id' | 'correlation_id' | 'event_id'
> & { created_at: string | Date };

const INSERT_SQL = `
INSERT INTO notifications (id, recipient_id, type, title, message, booking_id, program_id, achievement_id, correlation_id, event_id, created_at)
SELECT id, recipient_id, type, title, message, booking_id, program_id, achievement_id, correlation_id, event_id, created_at
FROM jsonb_to_recordset($1::jsonb) AS r(
  id uuid, recipient_id uuid, type text, title text, message text,
  booking_id uuid, program_id uuid, achievement_id uuid, correlation_id text, event_id text, created_at timestamptz)
ON CONFLICT (event_id, recipient_id) DO NOTHING
RETURNING id, recipient_id, type`;

/** Inserts an event's notifications; (event_id, recipient_id) is unique, so what is returned is what was really new. */
export const insertNotifications = (tx: Queryable, rows: NewNotification[]) =>
  tx.query<{ id: string; recipient_id: string; type: NotificationType }>(INSERT_SQL, [JSON.stringify(rows)]);

export interface NewDelivery {
  id: string;
  notification_id: string;
  recipient_id: string;
  channel: 'IN_APP' | 'EMAIL';
  status: 'QUEUED' | 'SENT';
  at: string | Date;
}

/**
 * One row per channel of new notifications, in the transaction that inserted them: in-app is
 * delivered by being written; email is queued for the sender, due at once.
 */
export async function insertDeliveries(tx: Queryable, rows: NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO deliveries (id, notification_id, recipient_id, channel, status, next_attempt_at, sent_at, created_at)
     SELECT id, notification_id, recipient_id, channel, status, at, CASE WHEN status = 'SENT' THEN at END, at
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, notification_id uuid, recipient_id uuid, channel text, status text, at timestamptz)
     ON CONFLICT (notification_id, channel) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
