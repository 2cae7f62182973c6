import { id, numberBetween, text } from '@fitsync/service-kit';
import { z } from 'zod';

const name = text({ min: 1, max: 120 });
const notes = text().nullish();

export const workoutPlanInput = z.object({
  name,
  sessionsPerWeek: z.number().int().min(0).max(14),
  exercises: z
    .array(
      z.object({
        name,
        sets: z.number().int().min(1).max(100),
        reps: z.number().int().min(1).max(1000),
        restSeconds: z.number().int().min(0).max(3600).nullish(),
        notes,
      }),
    )
    .max(100)
    .nullish(),
  notes,
});

export const dietPlanInput = z.object({
  name,
  dailyCalories: z.number().int().min(500).max(10000),
  proteinGrams: z.number().int().min(0).max(1000).nullish(),
  carbsGrams: z.number().int().min(0).max(2000).nullish(),
  fatGrams: z.number().int().min(0).max(1000).nullish(),
  notes,
});

const durationWeeks = z.number().int().min(1, 'must be 1 to 104').max(104, 'must be 1 to 104');

export const assignProgramInput = z.object({
  clientId: id(),
  trainerId: id().nullish(),
  name,
  description: notes,
  startDate: z.iso.date(),
  durationWeeks,
  workoutPlan: workoutPlanInput.nullish(),
  dietPlan: dietPlanInput.nullish(),
});

export const updateProgramInput = z.object({
  name: name.nullish(),
  description: notes,
  startDate: z.iso.date().nullish(),
  durationWeeks: durationWeeks.nullish(),
  status: z
    .enum(['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'])
    .nullish()
    .refine((s) => s !== 'COMPLETED', 'use completeProgram to complete a program'),
  workoutPlan: workoutPlanInput.nullish(),
  dietPlan: dietPlanInput.nullish(),
});

export const completeProgramInput = z.object({ adherenceRate: numberBetween(0, 1).nullish() });

export const requestCoachingInput = z.object({ clientId: id().nullish(), trainerId: id().nullish() });

export type AssignProgramInput = z.infer<typeof assignProgramInput>;
export type UpdateProgramInput = z.infer<typeof updateProgramInput>;
export type WorkoutPlanInput = z.infer<typeof workoutPlanInput>;
export type DietPlanInput = z.infer<typeof dietPlanInput>;
