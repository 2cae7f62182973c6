import type { EventHandler } from '@fitsync/events';
import { list, measure, quantity, sentence, signed } from './format.js';
import { notify } from './notify.js';

export const onAchievementEarned: EventHandler<'achievement.earned'> = async (event, ctx) => {
  const d = event.data;
  const description = d.description?.trim() ? ` ${sentence(d.description)}` : '';
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'ACHIEVEMENT_EARNED',
      title: 'Achievement unlocked',
      message: `You earned "${d.title}".${description}`,
      achievement_id: d.achievement_id,
      program_id: d.program_id,
    },
  ]);
};

export const onMilestoneReached: EventHandler<'milestone.reached'> = async (event, ctx) => {
  const d = event.data;
  const goal = d.goal_id ? `your ${measure(d.metric).label} goal` : `a ${measure(d.metric).label} milestone`;
  const from = d.previous_value === null ? '' : `, from ${quantity(d.metric, d.previous_value)}`;
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'MILESTONE_REACHED',
      title: 'Milestone reached',
      message: `You reached ${goal} of ${quantity(d.metric, d.target_value)}: now ${quantity(d.metric, d.achieved_value)}${from}. Keep it up!`,
    },
  ]);
};

export const onProgressUpdated: EventHandler<'progress.updated'> = async (event, ctx) => {
  const d = event.data;
  const parts = Object.entries(d.new_value).map(([key, value]) => {
    const change = d.change_from_last[key];
    const since = change === undefined ? '' : ` (${signed(change)}${measure(key).unit})`;
    return `${measure(key).label} ${quantity(key, value)}${since}`;
  });
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'PROGRESS_UPDATED',
      title: 'Progress recorded',
      message: parts.length ? `Your new measurements: ${list(parts)}.` : 'Your new measurements were recorded.',
    },
  ]);
};
