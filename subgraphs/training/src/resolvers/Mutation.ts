import { badInput, notFound, parseId, parseInput, requireViewer, type Queryable } from '@fitsync/service-kit';
import { localDate } from '@fitsync/service-kit/clock';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanAcceptCoaching, assertCanAssignPrograms, assertCanChangeProgram, assertCoachingParty, assigningTrainer, requestingPair } from '../access.js';
import { alreadyOpen, assertAccepted, assertPending, lockedCoaching, requireCoaching } from '../coaching.js';
import type { Context } from '../context.js';
import { assertOpen } from '../lifecycle.js';
import { assertCoachingParties, assertTrainerAndClient, computedAdherence } from '../services.js';
import type { CoachingRow, ProgramRow } from '../store.js';
import { assignProgramInput, completeProgramInput, requestCoachingInput, updateProgramInput, type UpdateProgramInput } from '../validation.js';
import {
  cancelOpenProgramsOf,
  insertCoachingRequest,
  insertDietPlan,
  insertProgramWithPlans,
  insertWorkoutPlan,
  lockProgram,
  openCoachingBetween,
  updateCoaching,
  updateProgram,
} from '../writes.js';

export const Mutation: MutationResolvers = {
  assignProgram: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    assertCanAssignPrograms(viewer);
    const data = parseInput(assignProgramInput, input);
    const trainerId = assigningTrainer(viewer, data.trainerId);
    if (data.clientId === trainerId) throw badInput('clientId and trainerId must be different users', 'clientId');
    await assertTrainerAndClient(ctx, trainerId, data.clientId);
    return ctx.store.db.transaction(async (tx) => {
      // Consent first: the program is written only under an accepted relationship, held until the commit.
      await requireCoaching(tx, data.clientId, trainerId);
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

  requestCoaching: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    const { clientId, trainerId } = requestingPair(viewer, parseInput(requestCoachingInput, input));
    await assertCoachingParties(ctx, trainerId, clientId);
    return ctx.store.db.transaction(async (tx) => {
      const coaching = await insertCoachingRequest(tx, { client_id: clientId, trainer_id: trainerId, requested_by: viewer.id, requested_at: ctx.clock() });
      if (!coaching) throw alreadyOpen(await openCoachingBetween(tx, clientId, trainerId));
      await ctx.events.emit(tx, 'coaching.requested', { ...partiesOf(coaching), requested_by: viewer.id });
      ctx.log.info({ coachingId: coaching.id }, 'coaching requested');
      return coaching;
    });
  },

  acceptCoaching: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const coachingId = parseId(id);
    return ctx.store.db.transaction(async (tx) => {
      const coaching = await lockedCoaching(tx, coachingId);
      assertCanAcceptCoaching(viewer, coaching);
      assertPending(coaching, 'accepted');
      const row = await updateCoaching(tx, coachingId, { status: 'ACCEPTED', accepted_by: viewer.id, accepted_at: ctx.clock() });
      await ctx.events.emit(tx, 'coaching.accepted', { ...partiesOf(row), accepted_by: viewer.id });
      return row;
    });
  },

  declineCoaching: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const coachingId = parseId(id);
    return ctx.store.db.transaction(async (tx) => {
      const coaching = await lockedCoaching(tx, coachingId);
      assertCoachingParty(viewer, coaching);
      assertPending(coaching, 'declined');
      const row = await updateCoaching(tx, coachingId, { status: 'DECLINED', ended_by: viewer.id, ended_at: ctx.clock() });
      await ctx.events.emit(tx, 'coaching.ended', { ...partiesOf(row), ended_by: viewer.id, outcome: 'DECLINED', cancelled_program_ids: [] });
      return row;
    });
  },

  endCoaching: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const coachingId = parseId(id);
    return ctx.store.db.transaction(async (tx) => {
      const coaching = await lockedCoaching(tx, coachingId);
      assertCoachingParty(viewer, coaching);
      assertAccepted(coaching);
      const now = ctx.clock();
      const row = await updateCoaching(tx, coachingId, { status: 'ENDED', ended_by: viewer.id, ended_at: now });
      // Access ends with the relationship: the pair's open programs are cancelled like any
      // other cancellation (program.updated); schedule cancels the future bookings on coaching.ended.
      const cancelled = await cancelOpenProgramsOf(tx, row.client_id, row.trainer_id, now);
      for (const p of cancelled)
        await ctx.events.emit(tx, 'program.updated', { program_id: p.id, client_id: p.client_id, trainer_id: p.trainer_id, name: p.name, changes: ['status'] });
      await ctx.events.emit(tx, 'coaching.ended', {
        ...partiesOf(row),
        ended_by: viewer.id,
        outcome: 'ENDED',
        cancelled_program_ids: cancelled.map((p) => p.id),
      });
      ctx.log.info({ coachingId, cancelledPrograms: cancelled.length }, 'coaching ended');
      return row;
    });
  },
};

const partiesOf = (c: CoachingRow) => ({ coaching_id: c.id, client_id: c.client_id, trainer_id: c.trainer_id });

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
