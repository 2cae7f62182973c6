import { demoGym, type Gym } from '@fitsync/demo-data';
import { columnsOf, insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/** Inserts the gym's bookings (this subgraph's slice of the gym). */
export async function seedSchedule(db: Queryable, gym: Gym): Promise<void> {
  await insertRows(
    db,
    'bookings',
    {
      id: 'uuid',
      client_id: 'uuid',
      trainer_id: 'uuid',
      program_id: 'uuid',
      gym_id: 'uuid',
      date: 'date',
      start_time: 'time',
      end_time: 'time',
      type: 'text',
      status: 'text',
      notes: 'text',
      trainer_notes: 'text',
      cancellation_reason: 'text',
      cancelled_by: 'uuid',
    },
    // The demo gym's cancellations came from the client.
    gym.bookings.map((b) => ({ ...columnsOf(b), cancelled_by: b.status === 'CANCELLED' ? b.clientId : null })),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedSchedule(db, demoGym(localDate(clock())));
