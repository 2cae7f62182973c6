-- Email: each user's channels per kind of notification (only the choices that differ from
-- the defaults in src/preferences.ts are stored), their quiet hours, and one delivery row per
-- channel of each notification, written in the transaction that writes the notification.
CREATE TABLE notification_preferences (
  user_id     uuid NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('BOOKINGS', 'REMINDERS', 'PROGRAMS', 'PROGRESS', 'ACCOUNT')),
  email       boolean NOT NULL,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, kind)
);

-- Gym-local times of day; end before start runs past midnight.
CREATE TABLE quiet_hours (
  user_id     uuid PRIMARY KEY,
  starts      time NOT NULL,
  ends        time NOT NULL CHECK (ends <> starts),
  updated_at  timestamptz NOT NULL
);

CREATE TABLE deliveries (
  -- Also the email's Message-ID: a resend after a crash carries the same one.
  id               uuid PRIMARY KEY,
  notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  recipient_id     uuid NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('IN_APP', 'EMAIL')),
  status           text NOT NULL CHECK (status IN ('QUEUED', 'SENT', 'FAILED', 'SKIPPED')),
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  -- Due from then on (the next retry, or the end of quiet hours) while QUEUED.
  next_attempt_at  timestamptz NOT NULL,
  -- A sender that claimed it owns it until then; another may take it over after (it crashed).
  claimed_until    timestamptz,
  sent_at          timestamptz,
  created_at       timestamptz NOT NULL,
  UNIQUE (notification_id, channel)
);

-- What the sender looks for: queued email, soonest due first.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'QUEUED';
-- /metrics and preferences changes: a recipient's queued mail.
CREATE INDEX deliveries_recipient_idx ON deliveries (recipient_id) WHERE status = 'QUEUED';
