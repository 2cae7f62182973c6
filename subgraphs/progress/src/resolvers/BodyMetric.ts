import { parseId, requireViewer } from '@fitsync/service-kit';
import type { BodyMetricResolvers } from '../__generated__/resolvers-types.js';
import { assertClientOrAdmin } from '../access.js';

export const BodyMetric: BodyMetricResolvers = {
  __resolveReference: async (ref, ctx) => {
    requireViewer(ctx);
    const row = await ctx.store.bodyMetricById(parseId(ref.id));
    return row && assertClientOrAdmin(ctx, row);
  },
  client: (m) => ({ __typename: 'User', id: m.client_id }),
  recordedAt: (m) => m.recorded_at,
  weightKg: (m) => m.weight_kg,
  bodyFatPercentage: (m) => m.body_fat_percentage,
  muscleMassKg: (m) => m.muscle_mass_kg,
  restingHeartRate: (m) => m.resting_heart_rate,
};
