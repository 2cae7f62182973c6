-- Progress owns what happened: measurements, workouts, achievements and goals.
-- client_id, trainer_id, booking_id and program_id point at other subgraphs' entities
-- (no foreign keys across services).

CREATE TABLE body_metrics (
  id                  uuid PRIMARY KEY,
  client_id           uuid NOT NULL,
  recorded_at         timestamptz NOT NULL DEFAULT now(),
  weight_kg           numeric(5, 1) CHECK (weight_kg > 0),
  body_fat_percentage numeric(4, 1) CHECK (body_fat_percentage BETWEEN 0 AND 100),
  muscle_mass_kg      numeric(5, 1) CHECK (muscle_mass_kg > 0),
  resting_heart_rate  integer CHECK (resting_heart_rate BETWEEN 20 AND 250),
  notes               text
);
-- User.bodyMetrics and the latest weight / body fat of User.progress.
CREATE INDEX body_metrics_client_recorded_idx ON body_metrics (client_id, recorded_at DESC, id DESC);

CREATE TABLE workout_logs (
  id               uuid PRIMARY KEY,
  client_id        uuid NOT NULL,
  trainer_id       uuid,
  -- One log per completed booking; null for workouts logged without a booking.
  booking_id       uuid UNIQUE,
  program_id       uuid,
  workout_date     date NOT NULL,
  duration_minutes integer CHECK (duration_minutes > 0),
  status           text NOT NULL DEFAULT 'LOGGED' CHECK (status IN ('STUB', 'LOGGED')),
  exercises        jsonb NOT NULL DEFAULT '[]',
  perceived_effort integer CHECK (perceived_effort BETWEEN 1 AND 10),
  notes            text,
  created_at       timestamptz NOT NULL DEFAULT now()
);
-- User.workoutLogs, and the counts, last date and weekly streak of User.progress.
CREATE INDEX workout_logs_client_date_idx ON workout_logs (client_id, workout_date DESC, id DESC);
-- Program.adherence.
CREATE INDEX workout_logs_program_idx ON workout_logs (program_id);
-- A trainer's logs (trainers see the logs they are party to).
CREATE INDEX workout_logs_trainer_date_idx ON workout_logs (trainer_id, workout_date DESC);

CREATE TABLE achievements (
  id          uuid PRIMARY KEY,
  client_id   uuid NOT NULL,
  type        text NOT NULL CHECK (type IN ('PROGRAM_COMPLETION', 'WEIGHT_MILESTONE', 'WORKOUT_STREAK', 'WORKOUT_COUNT', 'GOAL_REACHED')),
  title       text NOT NULL,
  description text,
  badge_icon  text,
  earned_at   timestamptz NOT NULL DEFAULT now(),
  program_id  uuid
);
-- User.achievements.
CREATE INDEX achievements_client_earned_idx ON achievements (client_id, earned_at DESC, id DESC);
-- At most one completion badge per program (program.completed may arrive twice).
CREATE UNIQUE INDEX achievements_program_completion_key ON achievements (program_id) WHERE type = 'PROGRAM_COMPLETION';

CREATE TABLE goals (
  id           uuid PRIMARY KEY,
  client_id    uuid NOT NULL,
  metric       text NOT NULL CHECK (metric IN ('WEIGHT_KG', 'BODY_FAT_PERCENTAGE', 'MUSCLE_MASS_KG', 'WORKOUTS_PER_WEEK')),
  target_value numeric(7, 2) NOT NULL,
  start_value  numeric(7, 2),
  deadline     date,
  status       text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'ACHIEVED', 'ABANDONED')),
  achieved_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- User.goals(status) and the active-goal count of User.progress.
CREATE INDEX goals_client_status_created_idx ON goals (client_id, status, created_at DESC, id DESC);
