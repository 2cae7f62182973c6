import { randomUUID } from 'node:crypto';
import { forbidden, notFound, parseId, parseInput, requireViewer, type Queryable, type Viewer } from '@fitsync/service-kit';
import { minutesBetween } from '@fitsync/service-kit/clock';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import { assertCanBook, assertCanChangeBooking } from '../access.js';
import { assertHeldBy, assertOpen, assertStartedBy, type BookingAction } from '../lifecycle.js';
import { NOT_COACHING, assertParties, bookablePair } from '../services.js';
import { cancelBookingInput, completeBookingInput, createBookingInput, rescheduleBookingInput } from '../validation.js';
import { assertNoOverlap, coachingEnded, insertBooking, lockBooking, lockUsers, updateBooking } from '../writes.js';

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
    const { clientId, trainerId, gymId, type, notes, ...slot } = parseInput(createBookingInput(ctx.store.now), input);
    assertCanBook(viewer, clientId, trainerId);
    await assertParties(ctx, clientId, trainerId);
    const { coachingId, programId } = await bookablePair(ctx, clientId, trainerId);
    return ctx.store.db.transaction(async (tx) => {
      await lockUsers(tx, [clientId, trainerId]);
      // Ended since training answered? Its coaching.ended handler takes the same locks, so either it ran
      // first (and is seen here) or it runs after this commit (and cancels this booking too).
      if (await coachingEnded(tx, coachingId)) throw forbidden(NOT_COACHING);
      await assertNoOverlap(tx, { clientId, trainerId, ...slot });
      const booking = await insertBooking(tx, { id: randomUUID(), clientId, trainerId, programId, gymId, ...slot, type: type ?? 'ONE_ON_ONE', notes });
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

  cancelBooking: async (_, { id, ...args }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const { reason: why } = parseInput(cancelBookingInput, args);
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

  rescheduleBooking: async (_, { id, ...args }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const slot = parseInput(rescheduleBookingInput(ctx.store.now), args);
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

  completeBooking: async (_, { id, ...args }, ctx) => {
    const viewer = requireViewer(ctx);
    const bookingId = parseId(id);
    const { trainerNotes: notes, durationMinutes } = parseInput(completeBookingInput, args);
    return ctx.store.db.transaction(async (tx) => {
      const booking = await lockOpenBooking(tx, bookingId, viewer, 'complete');
      assertHeldBy(booking, ctx.store.now);
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
      assertStartedBy(booking, ctx.store.now);
      return updateBooking(tx, bookingId, { status: 'NO_SHOW' });
    });
  },
};
