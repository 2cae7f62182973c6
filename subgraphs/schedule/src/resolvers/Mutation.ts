import { randomUUID } from 'node:crypto';
import { badInput, conflict, notFound, parseId, requireViewer, type Queryable, type Viewer } from '@fitsync/service-kit';
import { minutesBetween } from '@fitsync/service-kit/clock';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanBook, assertCanChangeBooking } from '../access.js';
import { assertOpen, type BookingAction } from '../lifecycle.js';
import { activeProgramId, assertParties } from '../services.js';
import { checkSlot } from '../validation.js';
import { assertNoOverlap, insertBooking, lockBooking, lockUsers, updateBooking } from '../writes.js';

const MAX_TEXT = 2000;
const text = (value: string | null | undefined, field: string) => {
  const v = value?.trim() || null;
  if (v && v.length > MAX_TEXT) throw badInput(`${field} must be at most ${MAX_TEXT} characters`, field);
  return v;
};

/**
 * Reads the booking inside the transaction, locked, and checks who may act on it and
 * that it is still open: NOT_FOUND, then FORBIDDEN, then the state rule.
 */
async function lockOpenBooking(tx: Queryable, id: string, viewer: Viewer, action: BookingAction) {
  const booking = await lockBooking(tx, id);
  if (!booking) throw notFound('Booking', id);
  assertCanChangeBooking(viewer, booking, action);
  assertOpen(booking, action);
  return booking;
}

export const Mutation: MutationResolvers = {
  createBooking: async (_, { input }, ctx) => {
    const viewer = requireViewer(ctx);
    const clientId = parseId(input.clientId, 'clientId');
    const trainerId = parseId(input.trainerId, 'trainerId');
    const gymId = parseId(input.gymId, 'gymId');
    if (clientId === trainerId) throw badInput('clientId and trainerId must be different users', 'trainerId');
    assertCanBook(viewer, clientId, trainerId);
    const slot = checkSlot(input, ctx.store.now);
    const notes = text(input.notes, 'notes');
    await assertParties(ctx, clientId, trainerId);
    const programId = await activeProgramId(ctx, clientId, trainerId);
    return ctx.store.db.transaction(async (tx) => {
      await lockUsers(tx, [clientId, trainerId]);
      await assertNoOverlap(tx, { clientId, trainerId, ...slot });
      const booking = await insertBooking(tx, { id: randomUUID(), clientId, trainerId, programId, gymId, ...slot, type: input.type ?? 'ONE_ON_ONE', notes });
      await ctx.events.emit(tx, 'booking.created', {
        booking_id: booking.id,
        client_id: clientId,
        trainer_id: trainerId,
        program_id: programId,
        gym_id: gymId,
        booking_date: booking.date,
        start_time: booking.start_time,
        end_time: booking.end_time,
        type: booking.type,
      });
      ctx.log.info({ bookingId: booking.id }, 'booking created');
      return booking;
    });
  },

  cancelBooking: async (_, { id, reason }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const why = text(reason, 'reason');
    return ctx.store.db.transaction(async (tx) => {
      await lockOpenBooking(tx, bookingId, viewer, 'cancel');
      const row = await updateBooking(tx, bookingId, { status: 'CANCELLED', cancellation_reason: why, cancelled_by: viewer.id });
      await ctx.events.emit(tx, 'booking.cancelled', {
        booking_id: row.id,
        client_id: row.client_id,
        trainer_id: row.trainer_id,
        booking_date: row.date,
        start_time: row.start_time,
        cancellation_reason: why,
        cancelled_by: viewer.id,
      });
      return row;
    });
  },

  rescheduleBooking: async (_, { id, date, startTime, endTime }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const slot = checkSlot({ date, startTime, endTime }, ctx.store.now);
    return ctx.store.db.transaction(async (tx) => {
      const booking = await lockOpenBooking(tx, bookingId, viewer, 'reschedule');
      await lockUsers(tx, [booking.client_id, booking.trainer_id]);
      await assertNoOverlap(tx, { clientId: booking.client_id, trainerId: booking.trainer_id, ...slot, exceptId: bookingId });
      const row = await updateBooking(tx, bookingId, { date: slot.date, start_time: slot.startTime, end_time: slot.endTime });
      await ctx.events.emit(tx, 'booking.rescheduled', {
        booking_id: row.id,
        client_id: row.client_id,
        trainer_id: row.trainer_id,
        old_date: booking.date,
        old_start_time: booking.start_time,
        old_end_time: booking.end_time,
        new_date: row.date,
        new_start_time: row.start_time,
        new_end_time: row.end_time,
      });
      return row;
    });
  },

  completeBooking: async (_, { id, trainerNotes, durationMinutes }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const notes = text(trainerNotes, 'trainerNotes');
    if (durationMinutes != null && (!Number.isInteger(durationMinutes) || durationMinutes < 1 || durationMinutes > 24 * 60)) {
      throw badInput('durationMinutes must be between 1 and 1440', 'durationMinutes');
    }
    return ctx.store.db.transaction(async (tx) => {
      const booking = await lockOpenBooking(tx, bookingId, viewer, 'complete');
      if (booking.date > ctx.store.now.date) throw conflict(`A session on ${booking.date} cannot be completed before that day`, 'NOT_YET_HELD');
      const row = await updateBooking(tx, bookingId, { status: 'COMPLETED', trainer_notes: notes });
      await ctx.events.emit(tx, 'booking.completed', {
        booking_id: row.id,
        client_id: row.client_id,
        trainer_id: row.trainer_id,
        program_id: row.program_id,
        workout_date: row.date,
        start_time: row.start_time,
        end_time: row.end_time,
        duration_minutes: durationMinutes ?? minutesBetween(row.start_time, row.end_time),
        trainer_notes: notes,
      });
      return row;
    });
  },

  markNoShow: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    return ctx.store.db.transaction(async (tx) => {
      const booking = await lockOpenBooking(tx, bookingId, viewer, 'markNoShow');
      const { date, time } = ctx.store.now;
      if (booking.date > date || (booking.date === date && booking.start_time > time)) throw conflict('A session that has not started cannot be a no-show', 'NOT_YET_HELD');
      return updateBooking(tx, bookingId, { status: 'NO_SHOW' });
    });
  },
};
