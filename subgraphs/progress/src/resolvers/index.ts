import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { ProgressServices } from '../services.js';
import { Achievement } from './Achievement.js';
import { BodyMetric } from './BodyMetric.js';
import { Booking } from './Booking.js';
import { Goal } from './Goal.js';
import { createMutation } from './Mutation.js';
import { Program } from './Program.js';
import { ProgressSummary } from './ProgressSummary.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';
import { User } from './User.js';
import { WorkoutLog } from './WorkoutLog.js';

export const createResolvers = (services: ProgressServices): Resolvers => ({
  Date: scalarResolvers.Date,
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation: createMutation(services),
  Subscription,
  User,
  ProgressSummary,
  BodyMetric,
  WorkoutLog,
  Achievement,
  Goal,
  Booking,
  Program,
});
