import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Mutation } from './Mutation.js';
import { Notification } from './Notification.js';
import { NotificationDelivery } from './NotificationDelivery.js';
import { NotificationPreferences } from './NotificationPreferences.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';
import { User } from './User.js';

export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Query,
  Subscription,
  Mutation,
  Notification,
  NotificationDelivery,
  NotificationPreferences,
  User,
};
