import type { BodyMetricResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin, visibleById } from '../access.js';

export const BodyMetric: BodyMetricResolvers = {
  __resolveReference: (ref, ctx) => visibleById(ctx, ref.id, (id) => ctx.store.bodyMetricById(id), assertClientOrAdmin),
  client: (m) => ({ __typename: 'User', id: m.client_id }),
  recordedAt: (m) => m.recorded_at,
  weightKg: (m) => m.weight_kg,
  bodyFatPercentage: (m) => m.body_fat_percentage,
  muscleMassKg: (m) => m.muscle_mass_kg,
  restingHeartRate: (m) => m.resting_heart_rate,
};
