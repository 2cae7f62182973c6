-- Coaching relationships training reported ended (coaching.ended): createBooking checks the
-- relationship with training first, then, under the pair's locks, that it has not ended since.
-- A booking that slipped between the two would otherwise outlive the relationship.
CREATE TABLE ended_coaching (
  coaching_id uuid PRIMARY KEY,
  client_id   uuid NOT NULL,
  trainer_id  uuid NOT NULL,
  ended_at    timestamptz NOT NULL
);
