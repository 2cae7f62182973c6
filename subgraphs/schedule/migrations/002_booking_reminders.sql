-- When the 24-hour reminder (booking.reminder) was written to the outbox: the scheduler
-- stamps it in the same transaction, so a booking is reminded once whatever restarts
-- and however many schedule replicas run.
ALTER TABLE bookings ADD COLUMN reminder_sent_at timestamptz;

-- The scheduler's scan: open bookings not reminded yet, soonest first.
CREATE INDEX bookings_reminder_due_idx ON bookings (date, start_time)
  WHERE reminder_sent_at IS NULL AND status IN ('PENDING', 'CONFIRMED');
