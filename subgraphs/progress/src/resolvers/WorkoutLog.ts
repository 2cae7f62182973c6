import type { WorkoutLogResolvers } from '../__generated__/resolvers-types.js';
import { assertCanSeeWorkoutLog, visibleById } from '../access.js';

export const WorkoutLog: WorkoutLogResolvers = {
  __resolveReference: (ref, ctx) => visibleById(ctx, ref.id, (id) => ctx.store.workoutLogById(id), assertCanSeeWorkoutLog),
  client: (l) => ({ __typename: 'User', id: l.client_id }),
  booking: (l) => (l.booking_id ? { __typename: 'Booking', id: l.booking_id } : null),
  program: (l) => (l.program_id ? { __typename: 'Program', id: l.program_id } : null),
  workoutDate: (l) => l.workout_date,
  durationMinutes: (l) => l.duration_minutes,
  perceivedEffort: (l) => l.perceived_effort,
  createdAt: (l) => l.created_at,
};
