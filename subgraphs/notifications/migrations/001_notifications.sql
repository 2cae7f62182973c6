CREATE TABLE notifications (
  id              uuid PRIMARY KEY,
  recipient_id    uuid NOT NULL,
  type            text NOT NULL CHECK (type IN (
                    'BOOKING_CREATED', 'BOOKING_CANCELLED', 'BOOKING_COMPLETED', 'BOOKING_REMINDER', 'BOOKING_RESCHEDULED',
                    'PROGRAM_ASSIGNED', 'PROGRAM_COMPLETED', 'PROGRAM_UPDATED',
                    'ACHIEVEMENT_EARNED', 'MILESTONE_REACHED', 'PROGRESS_UPDATED', 'PROFILE_UPDATED')),
  title           text NOT NULL,
  message         text NOT NULL,
  read_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Ids owned by other subgraphs: references, never foreign keys (database per service).
  booking_id      uuid,
  program_id      uuid,
  achievement_id  uuid,
  correlation_id  text,
  -- The domain event that created it: a consumer that sees an event twice inserts nothing the second time.
  event_id        text UNIQUE
);

-- User.notifications(first): newest first per recipient.
CREATE INDEX notifications_recipient_created_idx ON notifications (recipient_id, created_at DESC, id DESC);
-- User.notifications(unreadOnly: true) and User.unreadNotificationCount.
CREATE INDEX notifications_unread_idx ON notifications (recipient_id, created_at DESC) WHERE read_at IS NULL;
