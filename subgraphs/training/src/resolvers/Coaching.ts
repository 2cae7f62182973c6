import type { CoachingResolvers } from '../__generated__/resolvers-types.js';

const user = (id: string) => ({ __typename: 'User' as const, id });

export const Coaching: CoachingResolvers = {
  client: (c) => user(c.client_id),
  trainer: (c) => user(c.trainer_id),
  requestedBy: (c) => user(c.requested_by),
  requestedAt: (c) => c.requested_at,
  acceptedAt: (c) => c.accepted_at,
  endedBy: (c) => (c.ended_by ? user(c.ended_by) : null),
  endedAt: (c) => c.ended_at,
};
