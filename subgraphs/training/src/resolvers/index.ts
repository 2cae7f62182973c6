import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { TrainingServices } from '../services.js';
import { DietPlan } from './DietPlan.js';
import { createMutation } from './Mutation.js';
import { Program } from './Program.js';
import { Query } from './Query.js';
import { User } from './User.js';
import { WorkoutPlan } from './WorkoutPlan.js';

export const createResolvers = (services: TrainingServices): Resolvers => ({
  Date: scalarResolvers.Date,
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation: createMutation(services),
  Program,
  WorkoutPlan,
  DietPlan,
  User,
});
