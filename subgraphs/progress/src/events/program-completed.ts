import { randomUUID } from 'node:crypto';
import type { EventHandler } from '@fitsync/events';

const BADGE = 'program_complete.png';

const descriptionOf = (name: string, adherence: number | null) =>
  adherence === null
    ? `You completed your training program "${name}".`
    : `You completed your training program "${name}" with ${Math.round(adherence * 100)}% adherence.`;

/**
 * Completing a program earns a PROGRAM_COMPLETION achievement (one per program: a
 * partial unique index), announced with `achievement.earned` in the same transaction.
 */
export const onProgramCompleted: EventHandler<'program.completed'> = async ({ data, timestamp }, { tx, events, live, log }) => {
  const achievement = {
    id: randomUUID(),
    client_id: data.client_id,
    title: `Completed ${data.name}`,
    description: descriptionOf(data.name, data.adherence_rate),
    program_id: data.program_id,
  };
  const [created] = await tx.query<{ id: string }>(
    `INSERT INTO achievements (id, client_id, type, title, description, badge_icon, program_id, earned_at)
     VALUES ($1, $2, 'PROGRAM_COMPLETION', $3, $4, $5, $6, $7)
     ON CONFLICT (program_id) WHERE type = 'PROGRAM_COMPLETION' DO NOTHING
     RETURNING id`,
    // Earned when the program was completed: the event's time, on the publisher's clock.
    [achievement.id, achievement.client_id, achievement.title, achievement.description, BADGE, achievement.program_id, timestamp],
  );
  if (!created) {
    log.info({ program_id: data.program_id }, 'program completion already awarded; nothing to do');
    return;
  }
  const earned = await events.emit(tx, 'achievement.earned', {
    achievement_id: achievement.id,
    client_id: achievement.client_id,
    program_id: achievement.program_id,
    type: 'PROGRAM_COMPLETION',
    title: achievement.title,
    description: achievement.description,
    badge_icon: BADGE,
  });
  await live.publish('achievementEarned', { achievement_id: achievement.id, client_id: achievement.client_id });
  log.info({ achievement_id: achievement.id, program_id: data.program_id, follow_up_event_id: earned.event_id }, 'program completion achievement awarded');
};
