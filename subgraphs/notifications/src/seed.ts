import { demoGym, type Gym } from '@fitsync/demo-data';
import { insertRows, type Queryable } from '@fitsync/service-kit';

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
    gym.notifications.map((n) => ({
      id: n.id,
      recipient_id: n.recipientId,
      type: n.type,
      title: n.title,
      message: n.message,
      read_at: n.read ? n.createdAt : null,
      created_at: n.createdAt,
      booking_id: n.bookingId,
      program_id: n.programId,
      achievement_id: n.achievementId,
    })),
  );
}

export const seedDemo = (db: Queryable) => seedNotifications(db, demoGym());
