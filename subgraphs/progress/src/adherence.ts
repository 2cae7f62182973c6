import { daysBetween } from '@fitsync/service-kit/clock';

export interface ProgramAdherence {
  plannedSessions: number;
  completedSessions: number;
  rate: number;
}

/**
 * Sessions planned so far grow linearly from the start date to the end date
 * (rounded to whole sessions); the rate is completed over planned-to-date, 0 before
 * anything is planned and at most 1.
 */
export function programAdherence(
  program: { startDate: string; endDate: string; plannedSessions: number },
  completedSessions: number,
  today: string,
): ProgramAdherence {
  const span = daysBetween(program.startDate, program.endDate);
  const elapsed = daysBetween(program.startDate, today);
  const fraction = span > 0 ? Math.min(Math.max(elapsed / span, 0), 1) : elapsed >= 0 ? 1 : 0;
  const plannedSessions = Math.round(program.plannedSessions * fraction);
  const rate = plannedSessions > 0 ? Math.min(completedSessions / plannedSessions, 1) : 0;
  return { plannedSessions, completedSessions, rate };
}
