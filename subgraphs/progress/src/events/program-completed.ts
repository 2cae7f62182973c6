import { randomUUID } from 'node:crypto';
import type { EventHandler } from '@fitsync/events';
import { insertProgramCompletion } from '../writes.js';

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
    badge_icon: BADGE,
    program_id: data.program_id,
    // Earned when the program was completed: the event's time, on the publisher's clock.
    earned_at: timestamp,
  };
  if (!(await insertProgramCompletion(tx, achievement))) {
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
