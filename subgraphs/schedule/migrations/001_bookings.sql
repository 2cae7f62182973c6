CREATE TABLE bookings (
  id                  uuid PRIMARY KEY,
  -- Users and programs live in other subgraphs: plain ids, no foreign keys.
  client_id           uuid NOT NULL,
  trainer_id          uuid NOT NULL,
  program_id          uuid,
  gym_id              uuid NOT NULL,
  -- The gym's local calendar day and wall-clock times.
  date                date NOT NULL,
  start_time          time NOT NULL,
  end_time            time NOT NULL,
  type                text NOT NULL CHECK (type IN ('ONE_ON_ONE', 'GROUP', 'ASSESSMENT', 'VIRTUAL')),
  status              text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED', 'NO_SHOW')),
  notes               text,
  trainer_notes       text,
  cancellation_reason text,
  cancelled_by        uuid,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bookings_times_check CHECK (end_time > start_time),
  -- A booking belongs to two different people; per-user lists rely on it.
  CONSTRAINT bookings_parties_check CHECK (client_id <> trainer_id)
);

-- User.bookings / upcomingBookings / todaySchedule, matched once as trainer and once as client.
CREATE INDEX bookings_trainer_date_idx ON bookings (trainer_id, date, start_time);
CREATE INDEX bookings_client_date_idx ON bookings (client_id, date, start_time);
-- Program.bookings, soonest first.
CREATE INDEX bookings_program_date_idx ON bookings (program_id, date, start_time);
