import { demoGym, type Gym } from '@fitsync/demo-data';
import { insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/** Inserts the gym's measurements, workout logs, achievements and goals. */
export async function seedProgress(db: Queryable, gym: Gym): Promise<void> {
  await insertRows(
    db,
    'body_metrics',
    { id: 'uuid', client_id: 'uuid', recorded_at: 'timestamptz', weight_kg: 'numeric', body_fat_percentage: 'numeric', muscle_mass_kg: 'numeric', resting_heart_rate: 'int' },
    gym.bodyMetrics.map((m) => ({
      id: m.id,
      client_id: m.clientId,
      recorded_at: m.recordedAt,
      weight_kg: m.weightKg,
      body_fat_percentage: m.bodyFatPercentage,
      muscle_mass_kg: m.muscleMassKg,
      resting_heart_rate: m.restingHeartRate,
    })),
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
    gym.workoutLogs.map((l) => ({
      id: l.id,
      client_id: l.clientId,
      trainer_id: l.trainerId,
      booking_id: l.bookingId,
      program_id: l.programId,
      workout_date: l.workoutDate,
      duration_minutes: l.durationMinutes,
      status: 'LOGGED',
      exercises: l.exercises,
      perceived_effort: l.perceivedEffort,
      notes: l.notes,
      // Logged the evening of the session.
      created_at: `${l.workoutDate}T19:00:00Z`,
    })),
  );
  await insertRows(
    db,
    'achievements',
    { id: 'uuid', client_id: 'uuid', type: 'text', title: 'text', description: 'text', badge_icon: 'text', earned_at: 'timestamptz', program_id: 'uuid' },
    gym.achievements.map((a) => ({
      id: a.id,
      client_id: a.clientId,
      type: a.type,
      title: a.title,
      description: a.description,
      badge_icon: a.badgeIcon,
      earned_at: a.earnedAt,
      program_id: a.programId,
    })),
  );
  const programStart = new Map(gym.programs.filter((p) => p.status === 'ACTIVE').map((p) => [p.clientId, p.startDate]));
  await insertRows(
    db,
    'goals',
    { id: 'uuid', client_id: 'uuid', metric: 'text', target_value: 'numeric', start_value: 'numeric', deadline: 'date', status: 'text', created_at: 'timestamptz' },
    gym.goals.map((g) => ({
      id: g.id,
      client_id: g.clientId,
      metric: g.metric,
      target_value: g.targetValue,
      start_value: g.startValue,
      deadline: g.deadline,
      status: g.status,
      // Set when the client's current program started.
      created_at: programStart.has(g.clientId) ? `${programStart.get(g.clientId)}T09:00:00Z` : new Date(),
    })),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedProgress(db, demoGym(localDate(clock())));
