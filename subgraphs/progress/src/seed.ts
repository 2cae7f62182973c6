import { demoGym, type Gym } from '@fitsync/demo-data';
import { columnsOf, insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/** Inserts the gym's measurements, workout logs, achievements and goals. */
export async function seedProgress(db: Queryable, gym: Gym): Promise<void> {
  await insertRows(
    db,
    'body_metrics',
    {
      id: 'uuid',
      client_id: 'uuid',
      recorded_at: 'timestamptz',
      weight_kg: 'numeric',
      body_fat_percentage: 'numeric',
      muscle_mass_kg: 'numeric',
      resting_heart_rate: 'int',
    },
    gym.bodyMetrics.map(columnsOf),
  );
  await insertRows(
    db,
    'workout_logs',
    {
      id: 'uuid',
      client_id: 'uuid',
      trainer_id: 'uuid',
      booking_id: 'uuid',
      program_id: 'uuid',
      workout_date: 'date',
      duration_minutes: 'int',
      status: 'text',
      exercises: 'jsonb',
      perceived_effort: 'int',
      notes: 'text',
      created_at: 'timestamptz',
    },
    // Logged the evening of the session.
    gym.workoutLogs.map((l) => ({ ...columnsOf(l), status: 'LOGGED', created_at: `${l.workoutDate}T19:00:00Z` })),
  );
  await insertRows(
    db,
    'achievements',
    { id: 'uuid', client_id: 'uuid', type: 'text', title: 'text', description: 'text', badge_icon: 'text', earned_at: 'timestamptz', program_id: 'uuid' },
    gym.achievements.map(columnsOf),
  );
  const programStart = new Map(gym.programs.filter((p) => p.status === 'ACTIVE').map((p) => [p.clientId, p.startDate]));
  await insertRows(
    db,
    'goals',
    {
      id: 'uuid',
      client_id: 'uuid',
      metric: 'text',
      target_value: 'numeric',
      start_value: 'numeric',
      deadline: 'date',
      status: 'text',
      created_at: 'timestamptz',
    },
    // Set when the client's current program started.
    gym.goals.map((g) => ({ ...columnsOf(g), created_at: programStart.has(g.clientId) ? `${programStart.get(g.clientId)}T09:00:00Z` : new Date() })),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedProgress(db, demoGym(localDate(clock())));
