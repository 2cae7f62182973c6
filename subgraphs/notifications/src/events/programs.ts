import type { EventHandler } from '@fitsync/events';
import { changeList, day, list, percent } from './format.js';
import { notify } from './notify.js';

/** The trainer assigned it; the client is told what and when. */
export const onProgramAssigned: EventHandler<'program.assigned'> = async (event, ctx) => {
  const d = event.data;
  const plans = [d.workout_plan_id && 'a workout plan', d.diet_plan_id && 'a diet plan'].filter((p): p is string => Boolean(p));
  const weeks = `${d.duration_weeks} week${d.duration_weeks === 1 ? '' : 's'}`;
  const withPlans = plans.length ? `, with ${list(plans)}` : '';
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'PROGRAM_ASSIGNED',
      title: 'New program assigned',
      message: `Your trainer assigned you "${d.name}": ${weeks} starting ${day(d.start_date, event.timestamp)}${withPlans}.`,
      program_id: d.program_id,
    },
  ]);
};

/** Client and trainer both hear about a finished program. */
export const onProgramCompleted: EventHandler<'program.completed'> = async (event, ctx) => {
  const d = event.data;
  const on = `on ${day(d.completion_date, event.timestamp)}`;
  const adherence = d.adherence_rate === null ? '' : ` with ${percent(d.adherence_rate)} adherence`;
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'PROGRAM_COMPLETED',
      title: 'Program completed',
      message: `Congratulations: you completed "${d.name}" ${on}${adherence}.`,
      program_id: d.program_id,
    },
    {
      recipient_id: d.trainer_id,
      type: 'PROGRAM_COMPLETED',
      title: 'Program completed',
      message: `Your client completed "${d.name}" ${on}${adherence}.`,
      program_id: d.program_id,
    },
  ]);
};

/** The trainer changed it; the client is told what changed. */
export const onProgramUpdated: EventHandler<'program.updated'> = async (event, ctx) => {
  const d = event.data;
  await notify(event, ctx, [
    {
      recipient_id: d.client_id,
      type: 'PROGRAM_UPDATED',
      title: 'Program updated',
      message: `Your trainer updated "${d.name}": ${changeList(d.changes)}.`,
      program_id: d.program_id,
    },
  ]);
};
