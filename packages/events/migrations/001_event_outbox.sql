-- Applied to every service's database before its own migrations (see openDatabase).

-- Transactional outbox: a service writes its events here in the same transaction as
-- the change they describe; the relay delivers them afterwards and stamps published_at.
CREATE TABLE IF NOT EXISTS event_outbox (
  seq          bigserial PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  channel      text NOT NULL,
  envelope     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX IF NOT EXISTS event_outbox_unpublished_idx ON event_outbox (seq) WHERE published_at IS NULL;

-- Inbox: the events a consumer has handled, written in the handler's transaction, so
-- a second delivery of the same event_id changes nothing.
CREATE TABLE IF NOT EXISTS event_inbox (
  consumer   text NOT NULL,
  event_id   uuid NOT NULL,
  channel    text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
