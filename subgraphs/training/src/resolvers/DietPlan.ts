import { requireViewer } from '@fitsync/service-kit';
import type { DietPlanResolvers } from '../__generated__/resolvers-types.js';

export const DietPlan: DietPlanResolvers = {
  __resolveReference: (ref, ctx) => {
    requireViewer(ctx);
    return ctx.store.dietPlanById(ref.id);
  },
  dailyCalories: (d) => d.daily_calories,
  proteinGrams: (d) => d.protein_grams,
  carbsGrams: (d) => d.carbs_grams,
  fatGrams: (d) => d.fat_grams,
};
