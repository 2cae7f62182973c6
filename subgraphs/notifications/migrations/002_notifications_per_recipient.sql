-- One event can notify two users (a booking's client and trainer): an event adds at
-- most one notification per recipient, so handling it again inserts nothing.
ALTER TABLE notifications DROP CONSTRAINT notifications_event_id_key;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_recipient_key UNIQUE (event_id, recipient_id);
