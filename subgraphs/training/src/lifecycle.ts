import { conflict } from '@fitsync/service-kit';
import { addDays } from '@fitsync/service-kit/clock';
import type { ProgramRow, ProgramStatus, WorkoutPlanRow } from './store.js';

/** ACTIVE and PAUSED programs change; COMPLETED and CANCELLED ones are final. */
const OPEN: ProgramStatus[] = ['ACTIVE', 'PAUSED'];

export function assertOpen(program: ProgramRow, action: string): void {
  if (!OPEN.includes(program.status)) throw conflict(`A ${program.status.toLowerCase()} program cannot be ${action}`, 'ILLEGAL_TRANSITION');
}

/** The day a program ends: its start plus its weeks. */
export const endDateOf = (p: { start_date: string; duration_weeks: number }) => addDays(p.start_date, p.duration_weeks * 7);

/** Sessions over the whole program: its weeks times the sessions a week of its workout plan (none without one). */
export const plannedSessionsOf = (p: { duration_weeks: number }, plan: Pick<WorkoutPlanRow, 'sessions_per_week'> | null) =>
  p.duration_weeks * (plan?.sessions_per_week ?? 0);
