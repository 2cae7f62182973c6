import { demoGym, type Gym } from '@fitsync/demo-data';
import { columnsOf, insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/** Inserts the gym's notifications; a read one counts as read when it arrived. */
export async function seedNotifications(db: Queryable, gym: Gym): Promise<void> {
  await insertRows(
    db,
    'notifications',
    {
      id: 'uuid',
      recipient_id: 'uuid',
      type: 'text',
      title: 'text',
      message: 'text',
      read_at: 'timestamptz',
      created_at: 'timestamptz',
      booking_id: 'uuid',
      program_id: 'uuid',
      achievement_id: 'uuid',
    },
    gym.notifications.map((n) => ({ ...columnsOf(n), read_at: n.read ? n.createdAt : null })),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedNotifications(db, demoGym(localDate(clock())));
