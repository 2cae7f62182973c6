import { parseId, requireViewer } from '@fitsync/service-kit';
import { minutesBetween } from '@fitsync/service-kit/clock';
import type { BookingResolvers } from '../__generated__/resolvers-types.js';
import { assertCanSeeBooking } from '../access.js';

const userRef = (id: string) => ({ __typename: 'User' as const, id });

export const Booking: BookingResolvers = {
  __resolveReference: async (ref, ctx) => {
    const viewer = requireViewer(ctx);
    const booking = await ctx.store.bookingById(parseId(ref.id));
    return booking && assertCanSeeBooking(viewer, booking);
  },
  client: (b) => userRef(b.client_id),
  trainer: (b) => userRef(b.trainer_id),
  cancelledBy: (b) => (b.cancelled_by ? userRef(b.cancelled_by) : null),
  program: (b) => (b.program_id ? { __typename: 'Program', id: b.program_id } : null),
  gymId: (b) => b.gym_id,
  startTime: (b) => b.start_time,
  endTime: (b) => b.end_time,
  durationMinutes: (b) => minutesBetween(b.start_time, b.end_time),
  trainerNotes: (b) => b.trainer_notes,
  cancellationReason: (b) => b.cancellation_reason,
  createdAt: (b) => b.created_at,
  updatedAt: (b) => b.updated_at,
};
