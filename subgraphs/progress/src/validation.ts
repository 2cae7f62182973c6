import { badInput } from '@fitsync/service-kit';
import type { UpdateWorkoutLogInput } from './__generated__/resolvers-types.js';
import type { ExerciseLog } from './store.js';

/** The columns `updateWorkoutLog` sets; a key left out keeps its value. */
export interface WorkoutLogChanges {
  exercises?: ExerciseLog[];
  perceived_effort?: number | null;
  notes?: string | null;
  duration_minutes?: number | null;
}

const MAX_EXERCISES = 50;
const MAX_NOTES = 2000;

function intIn(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(`${field} must be a whole number from ${min} to ${max}`, field);
  return value;
}

function exercise(e: NonNullable<UpdateWorkoutLogInput['exercises']>[number], i: number): ExerciseLog {
  const at = `input.exercises[${i}]`;
  const name = e.name.trim();
  if (name.length < 1 || name.length > 100) throw badInput(`${at}.name must be 1 to 100 characters`, `${at}.name`);
  const weightKg = e.weightKg ?? null;
  if (weightKg !== null && !(Number.isFinite(weightKg) && weightKg >= 0 && weightKg <= 1000)) throw badInput(`${at}.weightKg must be from 0 to 1000`, `${at}.weightKg`);
  return { name, sets: intIn(e.sets, 1, 100, `${at}.sets`), reps: intIn(e.reps, 1, 1000, `${at}.reps`), weightKg };
}

/** Checks what a client sends for a workout log; BAD_USER_INPUT names the first field that is wrong. */
export function parseWorkoutLogInput(input: UpdateWorkoutLogInput): WorkoutLogChanges {
  const changes: WorkoutLogChanges = {};
  if (input.exercises !== undefined) {
    const list = input.exercises ?? [];
    if (list.length > MAX_EXERCISES) throw badInput(`input.exercises holds at most ${MAX_EXERCISES} exercises`, 'input.exercises');
    changes.exercises = list.map(exercise);
  }
  if (input.perceivedEffort !== undefined) {
    changes.perceived_effort = input.perceivedEffort === null ? null : intIn(input.perceivedEffort, 1, 10, 'input.perceivedEffort');
  }
  if (input.notes !== undefined) {
    const notes = input.notes?.trim() || null;
    if (notes && notes.length > MAX_NOTES) throw badInput(`input.notes must be at most ${MAX_NOTES} characters`, 'input.notes');
    changes.notes = notes;
  }
  if (input.durationMinutes !== undefined) {
    changes.duration_minutes = input.durationMinutes === null ? null : intIn(input.durationMinutes, 1, 600, 'input.durationMinutes');
  }
  if (Object.keys(changes).length === 0) throw badInput('input must set at least one of exercises, perceivedEffort, notes and durationMinutes', 'input');
  return changes;
}
