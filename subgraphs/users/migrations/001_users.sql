CREATE TABLE users (
  id             uuid PRIMARY KEY,
  email          text NOT NULL,
  name           text NOT NULL,
  role           text NOT NULL CHECK (role IN ('CLIENT', 'TRAINER', 'ADMIN')),
  phone          text,
  avatar_url     text,
  password_hash  text NOT NULL,
  -- One-to-one role profiles, read and written whole.
  trainer_profile jsonb,
  client_profile  jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
-- users(role, first, after): newest first, keyset paging.
CREATE INDEX users_role_created_idx ON users (role, created_at DESC, id DESC);
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);
