import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Coaching } from './Coaching.js';
import { DietPlan } from './DietPlan.js';
import { Mutation } from './Mutation.js';
import { Program } from './Program.js';
import { Query } from './Query.js';
import { User } from './User.js';
import { WorkoutPlan } from './WorkoutPlan.js';

export const resolvers: Resolvers = {
  Date: scalarResolvers.Date,
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation,
  Program,
  Coaching,
  WorkoutPlan,
  DietPlan,
  User,
};
