import { byIdLoader, listLoader, RequestLoaders, rowLoader, type Database, type Queryable } from '@fitsync/service-kit';
import type { NotificationType } from './__generated__/resolvers-types.js';

export interface NotificationRow {
  id: string;
  recipient_id: string;
  type: NotificationType;
  title: string;
  message: string;
  read_at: Date | null;
  created_at: Date;
  /** Ids of entities other subgraphs own; their owners resolve them at read time. */
  booking_id: string | null;
  program_id: string | null;
  achievement_id: string | null;
  correlation_id: string | null;
  /** The domain event that created it (idempotent consumers); null for seeded rows. */
  event_id: string | null;
}

/** One channel's delivery of a notification (see migrations/004_email_deliveries.sql). */
export interface DeliveryRow {
  id: string;
  notification_id: string;
  recipient_id: string;
  channel: 'IN_APP' | 'EMAIL';
  status: 'QUEUED' | 'SENT' | 'FAILED' | 'SKIPPED';
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  sent_at: Date | null;
}

const DELIVERY_COLUMNS = 'id, notification_id, recipient_id, channel, status, attempts, last_error, next_attempt_at, sent_at';

/** A User as the gateway hands it to this subgraph: only the key (users owns the rest). */
export interface UserRef {
  id: string;
}

export const NOTIFICATION_COLUMNS =
  'id, recipient_id, type, title, message, read_at, created_at, booking_id, program_id, achievement_id, correlation_id, event_id';
// Newest first; id breaks ties between notifications created in the same instant.
const NEWEST_FIRST = 'created_at DESC, id DESC';

/** Unread notifications per recipient, for those who have any: the count fields, and the live count after new notifications. */
export const unreadCounts = (q: Queryable, recipientIds: readonly string[]) =>
  q.query<{ recipient_id: string; unread: number }>(
    `SELECT recipient_id, count(*)::int AS unread FROM notifications
     WHERE recipient_id = ANY($1::uuid[]) AND read_at IS NULL
     GROUP BY recipient_id`,
    [recipientIds],
  );

/** What the notifications subgraph's resolvers read, behind loaders made fresh for each request. */
export class NotificationsStore {
  readonly #loaders = new RequestLoaders();
  constructor(readonly db: Database) {}

  notificationById(id: string): Promise<NotificationRow | null> {
    return this.#loaders.get('notificationById', () => byIdLoader<NotificationRow>(this.db, 'notifications', NOTIFICATION_COLUMNS)).load(id);
  }

  /** The newest `first` notifications of a user; one statement for every user of the request asking the same. */
  notificationsOf(recipientId: string, first: number, unreadOnly: boolean): Promise<NotificationRow[]> {
    if (first === 0) return Promise.resolve([]);
    const unread = unreadOnly ? 'AND read_at IS NULL' : '';
    return this.#loaders
      .get(`notificationsOf:${first}:${unreadOnly}`, () =>
        listLoader(
          (recipientIds: readonly string[]) =>
            this.db.query<NotificationRow>(
              `SELECT ${NOTIFICATION_COLUMNS} FROM (
                 SELECT ${NOTIFICATION_COLUMNS}, row_number() OVER (PARTITION BY recipient_id ORDER BY ${NEWEST_FIRST}) AS rank
                 FROM notifications WHERE recipient_id = ANY($1::uuid[]) ${unread}
               ) ranked
               WHERE rank <= $2
               ORDER BY recipient_id, ${NEWEST_FIRST}`,
              [recipientIds, first],
            ),
          (r) => r.recipient_id,
        ),
      )
      .load(recipientId);
  }

  /** The deliveries of a notification, in-app first; one statement for every notification of the request. */
  deliveriesOf(notificationId: string): Promise<DeliveryRow[]> {
    return this.#loaders
      .get('deliveriesOf', () =>
        listLoader(
          (ids: readonly string[]) =>
            this.db.query<DeliveryRow>(
              `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE notification_id = ANY($1::uuid[]) ORDER BY notification_id, channel DESC`,
              [ids],
            ),
          (r) => r.notification_id,
        ),
      )
      .load(notificationId);
  }

  /** Unread notifications of a user, 0 when they have none; one statement for every user of the request. */
  async unreadCount(recipientId: string): Promise<number> {
    const row = await this.#loaders
      .get('unreadCount', () =>
        rowLoader(
          (recipientIds: readonly string[]) => unreadCounts(this.db, recipientIds),
          (r) => r.recipient_id,
        ),
      )
      .load(recipientId);
    return row?.unread ?? 0;
  }
}
