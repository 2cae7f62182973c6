import { demoGym, type Gym } from '@fitsync/demo-data';
import { columnsOf, insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/**
 * Inserts the gym's accepted coaching relationships (who trains whom), then its programs with
 * their workout and diet plans (plans first: programs reference them).
 */
export async function seedTraining(db: Queryable, gym: Gym): Promise<void> {
  await insertRows(
    db,
    'coaching_relationships',
    {
      id: 'uuid',
      client_id: 'uuid',
      trainer_id: 'uuid',
      status: 'text',
      requested_by: 'uuid',
      requested_at: 'timestamptz',
      accepted_by: 'uuid',
      accepted_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    gym.coaching.map((c) => ({ ...columnsOf(c), status: 'ACCEPTED', accepted_by: c.clientId, updated_at: c.acceptedAt })),
  );
  await insertRows(
    db,
    'workout_plans',
    { id: 'uuid', name: 'text', sessions_per_week: 'integer', exercises: 'jsonb' },
    gym.programs.map((p) => columnsOf(p.workoutPlan)),
  );
  await insertRows(
    db,
    'diet_plans',
    { id: 'uuid', name: 'text', daily_calories: 'integer', protein_grams: 'integer', carbs_grams: 'integer', fat_grams: 'integer' },
    gym.programs.map((p) => columnsOf(p.dietPlan)),
  );
  await insertRows(
    db,
    'programs',
    {
      id: 'uuid',
      client_id: 'uuid',
      trainer_id: 'uuid',
      name: 'text',
      description: 'text',
      start_date: 'date',
      duration_weeks: 'integer',
      status: 'text',
      adherence_rate: 'numeric',
      completed_at: 'timestamptz',
      workout_plan_id: 'uuid',
      diet_plan_id: 'uuid',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    gym.programs.map(({ workoutPlan, dietPlan, ...program }) => {
      // A program is assigned on the morning it starts; it last changed when it was completed.
      const createdAt = `${program.startDate}T08:00:00Z`;
      return {
        ...columnsOf(program),
        workout_plan_id: workoutPlan.id,
        diet_plan_id: dietPlan.id,
        created_at: createdAt,
        updated_at: program.completedAt ?? createdAt,
      };
    }),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedTraining(db, demoGym(localDate(clock())));
