import { randomUUID } from 'node:crypto';
import { badInput, forbidden, notFound, parseId, parseInput, requireViewer } from '@fitsync/service-kit';
import { localDate } from '@fitsync/service-kit/clock';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanChangeProgram } from '../access.js';
import type { Context } from '../context.js';
import { assertOpen, endDateOf, plannedSessionsOf } from '../lifecycle.js';
import { assertTrainerAndClient, computedAdherence } from '../services.js';
import type { ProgramRow } from '../store.js';
import { assignProgramInput, completeProgramInput, updateProgramInput } from '../validation.js';
import { insertDietPlan, insertProgram, insertWorkoutPlan, lockProgram, updateProgram } from '../writes.js';

async function existingProgram(ctx: Context, id: string) {
  const program = await ctx.store.programById(id);
  if (!program) throw notFound('Program', id);
  return program;
}

export const Mutation: MutationResolvers = {
  assignProgram: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    if (viewer.role === 'CLIENT') throw forbidden('Only trainers and admins assign programs');
    const data = parseInput(assignProgramInput, input);
    const clientId = data.clientId;
    const trainerId = data.trainerId ?? (viewer.role === 'TRAINER' ? viewer.id : null);
    if (!trainerId) throw badInput('trainerId: an admin must name the trainer', 'trainerId');
    if (viewer.role === 'TRAINER' && trainerId !== viewer.id) throw forbidden('Trainers assign programs as themselves');
    if (clientId === trainerId) throw badInput('clientId and trainerId must be different users', 'clientId');
    await assertTrainerAndClient(ctx, trainerId, clientId);
    return ctx.store.db.transaction(async (tx) => {
      const workoutPlanId = data.workoutPlan ? await insertWorkoutPlan(tx, data.workoutPlan) : null;
      const dietPlanId = data.dietPlan ? await insertDietPlan(tx, data.dietPlan) : null;
      const program = await insertProgram(tx, {
        id: randomUUID(),
        client_id: clientId,
        trainer_id: trainerId,
        name: data.name,
        description: data.description ?? null,
        start_date: data.startDate,
        duration_weeks: data.durationWeeks,
        workout_plan_id: workoutPlanId,
        diet_plan_id: dietPlanId,
      });
      await ctx.events.emit(tx, 'program.assigned', {
        program_id: program.id,
        client_id: clientId,
        trainer_id: trainerId,
        name: program.name,
        workout_plan_id: workoutPlanId,
        diet_plan_id: dietPlanId,
        start_date: program.start_date,
        duration_weeks: program.duration_weeks,
      });
      return program;
    });
  },

  updateProgram: async (_, { id, input }, ctx) => {
    const viewer = requireViewer(ctx);
    const programId = parseId(id);
    const data = parseInput(updateProgramInput, input);
    return ctx.store.db.transaction(async (tx) => {
      const program = await lockProgram(tx, programId);
      if (!program) throw notFound('Program', programId);
      assertCanChangeProgram(viewer, program);
      assertOpen(program, 'changed');
      const set: Partial<Record<keyof ProgramRow, unknown>> = {};
      const changes: string[] = [];
      const change = (column: keyof ProgramRow, value: unknown, label: string = column) => {
        if (value === undefined || value === null || value === program[column]) return;
        set[column] = value;
        changes.push(label);
      };
      change('name', data.name);
      change('description', data.description);
      change('start_date', data.startDate);
      change('duration_weeks', data.durationWeeks);
      change('status', data.status);
      if (data.workoutPlan) change('workout_plan_id', await insertWorkoutPlan(tx, data.workoutPlan), 'workout_plan');
      if (data.dietPlan) change('diet_plan_id', await insertDietPlan(tx, data.dietPlan), 'diet_plan');
      if (changes.length === 0) return program;
      const row = await updateProgram(tx, programId, set);
      await ctx.events.emit(tx, 'program.updated', { program_id: row.id, client_id: row.client_id, trainer_id: row.trainer_id, name: row.name, changes });
      return row;
    });
  },

  completeProgram: async (_, { id, ...args }, ctx) => {
    const viewer = requireViewer(ctx);
    const programId = parseId(id);
    const { adherenceRate } = parseInput(completeProgramInput, args);
    // Checked before asking progress, and again under the lock.
    const before = await existingProgram(ctx, programId);
    assertCanChangeProgram(viewer, before);
    assertOpen(before, 'completed');
    const plan = before.workout_plan_id ? await ctx.store.workoutPlanById(before.workout_plan_id) : null;
    const rate =
      adherenceRate ??
      (await computedAdherence(ctx, {
          __typename: 'Program',
          id: before.id,
          client: { id: before.client_id },
          trainer: { id: before.trainer_id },
          startDate: before.start_date,
          endDate: endDateOf(before),
          plannedSessions: plannedSessionsOf(before, plan),
        }));
    return ctx.store.db.transaction(async (tx) => {
      const program = await lockProgram(tx, programId);
      if (!program) throw notFound('Program', programId);
      assertOpen(program, 'completed');
      const rounded = rate === null ? null : Math.round(rate * 1000) / 1000;
      const now = ctx.clock();
      const row = await updateProgram(tx, programId, { status: 'COMPLETED', adherence_rate: rounded, completed_at: now });
      await ctx.events.emit(tx, 'program.completed', {
        program_id: row.id,
        client_id: row.client_id,
        trainer_id: row.trainer_id,
        name: row.name,
        completion_date: localDate(now),
        adherence_rate: rounded,
      });
      return row;
    });
  },
};
