CREATE TABLE workout_plans (
  id                uuid PRIMARY KEY,
  name              text NOT NULL,
  sessions_per_week integer NOT NULL CHECK (sessions_per_week BETWEEN 0 AND 14),
  -- [{ name, sets, reps, restSeconds, notes }], read and written whole with the plan.
  exercises         jsonb NOT NULL DEFAULT '[]',
  notes             text,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE diet_plans (
  id             uuid PRIMARY KEY,
  name           text NOT NULL,
  daily_calories integer NOT NULL CHECK (daily_calories > 0),
  protein_grams  integer CHECK (protein_grams >= 0),
  carbs_grams    integer CHECK (carbs_grams >= 0),
  fat_grams      integer CHECK (fat_grams >= 0),
  notes          text,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- client_id and trainer_id are User ids owned by the users subgraph: no foreign key
-- across services, the ids are checked by whoever assigns the program.
CREATE TABLE programs (
  id              uuid PRIMARY KEY,
  client_id       uuid NOT NULL,
  trainer_id      uuid NOT NULL CHECK (trainer_id <> client_id),
  name            text NOT NULL,
  description     text,
  start_date      date NOT NULL,
  duration_weeks  integer NOT NULL CHECK (duration_weeks BETWEEN 1 AND 104),
  status          text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'COMPLETED', 'CANCELLED')),
  adherence_rate  numeric(4, 3) CHECK (adherence_rate BETWEEN 0 AND 1),
  completed_at    timestamptz,
  workout_plan_id uuid REFERENCES workout_plans (id),
  diet_plan_id    uuid REFERENCES diet_plans (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- User.programs / activePrograms / trainerIds from the client's side, newest first.
CREATE INDEX programs_client_status_idx ON programs (client_id, status, start_date DESC, created_at DESC);
-- User.programs / activePrograms / clients from the trainer's side.
CREATE INDEX programs_trainer_status_idx ON programs (trainer_id, status, start_date DESC, created_at DESC);
