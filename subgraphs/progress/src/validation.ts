import { id, numberBetween, optionalText, text, wholeNumber } from '@fitsync/service-kit';
import { z } from 'zod';
import { round, type Metric } from './measurements.js';
import { GOAL_METRICS, type ExerciseLog } from './store.js';

/** A measurement within the bounds of its column's check (a bad value is BAD_USER_INPUT, never a constraint error), to one decimal. */
const measurement = (min: number, max: number) =>
  numberBetween(min, max)
    .nullish()
    .transform((v) => (v == null ? null : round(v, 1)));

/** `recordBodyMetrics(input)`, on the service's clock `now`: at least one measurement, not taken in the future. */
export const bodyMetricsInput = (now: Date) =>
  z
    .object({
      weightKg: measurement(1, 9999),
      bodyFatPercentage: measurement(0, 100),
      muscleMassKg: measurement(1, 9999),
      restingHeartRate: numberBetween(20, 250)
        .nullish()
        .transform((v) => v ?? null),
      recordedAt: z
        .union([z.date(), z.string()])
        .nullish()
        .transform((v) => (v ? new Date(v) : now))
        // A minute's grace for the client's clock.
        .refine((at) => at.getTime() <= now.getTime() + 60_000, 'must not be in the future'),
      notes: optionalText(),
      clientId: id().nullish(),
    })
    .refine((m) => m.weightKg !== null || m.bodyFatPercentage !== null || m.muscleMassKg !== null || m.restingHeartRate !== null, {
      path: ['weightKg'],
      message: 'record at least one measurement',
    })
    .transform(({ weightKg, bodyFatPercentage, muscleMassKg, restingHeartRate, ...rest }) => ({
      ...rest,
      values: {
        weight_kg: weightKg,
        body_fat_percentage: bodyFatPercentage,
        muscle_mass_kg: muscleMassKg,
        resting_heart_rate: restingHeartRate,
      } satisfies Record<Metric, number | null>,
    }));

const positive = z.number().gt(0, 'must be a positive number').lt(100_000, 'must be a positive number');

/** `setGoal(input)`, on the gym's day `today`. */
export const goalInput = (today: string) =>
  z
    .object({
      metric: z.enum(GOAL_METRICS),
      targetValue: positive,
      startValue: positive.nullish(),
      deadline: z.iso
        .date()
        .nullish()
        .refine((d) => !d || d >= today, 'must not be in the past'),
      clientId: id().nullish(),
    })
    .refine((g) => g.metric !== 'BODY_FAT_PERCENTAGE' || g.targetValue <= 100, { path: ['targetValue'], message: 'must be a percentage' });

/** The columns `updateWorkoutLog` sets; a key left out keeps its value. */
export interface WorkoutLogChanges {
  exercises?: ExerciseLog[];
  perceived_effort?: number | null;
  notes?: string | null;
  duration_minutes?: number | null;
}

const exerciseLog = z.object({
  name: text({ min: 1, max: 100 }),
  sets: wholeNumber(1, 100),
  reps: wholeNumber(1, 1000),
  weightKg: numberBetween(0, 1000)
    .nullish()
    .transform((v) => v ?? null),
});

/** `updateWorkoutLog(input)`: a field left out stays as it is, null clears it; at least one is set. Parse with `at` 'input'. */
export const workoutLogInput = z
  .object({
    exercises: z
      .array(exerciseLog)
      .max(50, 'holds at most 50 exercises')
      .nullable()
      .transform((list) => list ?? [])
      .optional(),
    perceivedEffort: wholeNumber(1, 10).nullable().optional(),
    notes: optionalText().optional(),
    durationMinutes: wholeNumber(1, 600).nullable().optional(),
  })
  .refine((i) => Object.keys(i).length > 0, 'must set at least one of exercises, perceivedEffort, notes and durationMinutes')
  .transform((i): WorkoutLogChanges => {
    const changes: WorkoutLogChanges = {};
    if ('exercises' in i) changes.exercises = i.exercises;
    if ('perceivedEffort' in i) changes.perceived_effort = i.perceivedEffort;
    if ('notes' in i) changes.notes = i.notes;
    if ('durationMinutes' in i) changes.duration_minutes = i.durationMinutes;
    return changes;
  });
