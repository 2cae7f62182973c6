-- Who trains whom: a trainer coaches a client only through a relationship the other side
-- (the client, or the trainer when the client asked) or an admin accepted. Every access rule
-- that reads "the trainer trains the client" reads the ACCEPTED rows of this table.
-- client_id, trainer_id, requested_by, ... are User ids owned by users (no foreign key
-- across services; whoever requests checks them with users).
CREATE TABLE coaching_relationships (
  id           uuid PRIMARY KEY,
  client_id    uuid NOT NULL,
  trainer_id   uuid NOT NULL CHECK (trainer_id <> client_id),
  status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'ENDED')),
  requested_by uuid NOT NULL,
  requested_at timestamptz NOT NULL,
  accepted_by  uuid,
  accepted_at  timestamptz,
  ended_by     uuid,
  ended_at     timestamptz,
  updated_at   timestamptz NOT NULL
);

-- At most one open (pending or accepted) relationship per pair: a second request races into this.
CREATE UNIQUE INDEX coaching_open_pair_key ON coaching_relationships (client_id, trainer_id) WHERE status IN ('PENDING', 'ACCEPTED');
-- User.trainerIds (the client's side) and User.coaching from either side.
CREATE INDEX coaching_client_idx ON coaching_relationships (client_id, status, requested_at DESC);
CREATE INDEX coaching_trainer_idx ON coaching_relationships (trainer_id, status, requested_at DESC);
