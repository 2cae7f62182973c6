import { DEMO_PASSWORD, demoGym, type Gym } from '@fitsync/demo-data';
import { columnsOf, hashPassword, insertRows, type Queryable } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

/**
 * Inserts the gym's users. Every seeded account shares one password, hashed once:
 * hashing thousands of accounts one by one would take minutes for benchmark data sets.
 */
export async function seedUsers(db: Queryable, gym: Gym, password = DEMO_PASSWORD): Promise<void> {
  const hash = await hashPassword(password);
  await insertRows(
    db,
    'users',
    {
      id: 'uuid',
      email: 'text',
      name: 'text',
      role: 'text',
      phone: 'text',
      password_hash: 'text',
      trainer_profile: 'jsonb',
      client_profile: 'jsonb',
      approved_at: 'timestamptz',
      created_at: 'timestamptz',
    },
    gym.users.map((u) => ({ ...columnsOf(u), password_hash: hash })),
  );
}

/** The demo gym for the clock's today (a new data folder outside production). */
export const seedDemo = (db: Queryable, _log: unknown, clock: Clock) => seedUsers(db, demoGym(localDate(clock())));
