import type { ProgressSummaryResolvers } from '../__generated__/resolvers-types.js';

export const ProgressSummary: ProgressSummaryResolvers = {
  latestWeightKg: (s) => s.latest_weight_kg,
  weightChange30dKg: (s) => s.weight_change_30d_kg,
  latestBodyFatPercentage: (s) => s.latest_body_fat_percentage,
  workoutsThisMonth: (s) => s.workouts_this_month,
  currentStreakWeeks: (s) => s.current_streak_weeks,
  totalWorkouts: (s) => s.total_workouts,
  lastWorkoutDate: (s) => s.last_workout_date,
  activeGoals: (s) => s.active_goals,
};
