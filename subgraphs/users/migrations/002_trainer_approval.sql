-- Self-registered trainers act as trainers only once an admin approves them (approveTrainer).
-- Trainers of a database from before this column are not approved by the migration: an
-- admin approves each one, so no account that registered itself as a trainer keeps access
-- it was never granted.
ALTER TABLE users ADD COLUMN approved_at timestamptz;
ALTER TABLE users ADD COLUMN approved_by uuid;
-- users(role: TRAINER) for everyone but admins: approved trainers only, newest first.
CREATE INDEX users_approved_trainers_idx ON users (created_at DESC, id DESC) WHERE role = 'TRAINER' AND approved_at IS NOT NULL;
