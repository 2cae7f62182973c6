import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Achievement } from './Achievement.js';
import { BodyMetric } from './BodyMetric.js';
import { Booking } from './Booking.js';
import { Goal } from './Goal.js';
import { Mutation } from './Mutation.js';
import { Program } from './Program.js';
import { ProgressSummary } from './ProgressSummary.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';
import { User } from './User.js';
import { WorkoutLog } from './WorkoutLog.js';

export const resolvers: Resolvers = {
  Date: scalarResolvers.Date,
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation,
  Subscription,
  User,
  ProgressSummary,
  BodyMetric,
  WorkoutLog,
  Achievement,
  Goal,
  Booking,
  Program,
};
