import { badInput, notFound, parseId, parseInput, requireViewer, type Queryable } from '@fitsync/service-kit';
import { localDate } from '@fitsync/service-kit/clock';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanAssignPrograms, assertCanChangeProgram, assigningTrainer } from '../access.js';
import type { Context } from '../context.js';
import { assertOpen } from '../lifecycle.js';
import { assertTrainerAndClient, computedAdherence } from '../services.js';
import type { ProgramRow } from '../store.js';
import { assignProgramInput, completeProgramInput, updateProgramInput, type UpdateProgramInput } from '../validation.js';
import { insertDietPlan, insertProgramWithPlans, insertWorkoutPlan, lockProgram, updateProgram } from '../writes.js';

export const Mutation: MutationResolvers = {
  assignProgram: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    assertCanAssignPrograms(viewer);
    const data = parseInput(assignProgramInput, input);
    const trainerId = assigningTrainer(viewer, data.trainerId);
    if (data.clientId === trainerId) throw badInput('clientId and trainerId must be different users', 'clientId');
    await assertTrainerAndClient(ctx, trainerId, data.clientId);
    return ctx.store.db.transaction(async (tx) => {
      const program = await insertProgramWithPlans(tx, data, trainerId);
      await ctx.events.emit(tx, 'program.assigned', {
        program_id: program.id,
        client_id: program.client_id,
        trainer_id: program.trainer_id,
        name: program.name,
        workout_plan_id: program.workout_plan_id,
        diet_plan_id: program.diet_plan_id,
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
      const program = await lockedProgram(tx, programId);
      assertCanChangeProgram(viewer, program);
      assertOpen(program, 'changed');
      const { set, changes } = await changesTo(tx, program, data);
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
    const before = await ctx.store.programById(programId);
    if (!before) throw notFound('Program', programId);
    assertCanChangeProgram(viewer, before);
    assertOpen(before, 'completed');
    const rate = adherenceRate ?? (await adherenceOf(ctx, before));
    return ctx.store.db.transaction(async (tx) => {
      assertOpen(await lockedProgram(tx, programId), 'completed');
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

async function lockedProgram(tx: Queryable, id: string): Promise<ProgramRow> {
  const program = await lockProgram(tx, id);
  if (!program) throw notFound('Program', id);
  return program;
}

/**
 * The columns an update really changes (a value equal to the current one is no change)
 * and their names for `program.updated`; new plans are inserted and replace the old.
 */
async function changesTo(tx: Queryable, program: ProgramRow, data: UpdateProgramInput) {
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
  return { set, changes };
}

/** What progress computes for the program, against the sessions its workout plan plans. */
async function adherenceOf(ctx: Context, program: ProgramRow): Promise<number | null> {
  const plan = program.workout_plan_id ? await ctx.store.workoutPlanById(program.workout_plan_id) : null;
  return computedAdherence(ctx, program, plan);
}
