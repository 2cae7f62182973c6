import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Booking } from './Booking.js';
import { BookingEvent } from './BookingEvent.js';
import { Mutation } from './Mutation.js';
import { Program } from './Program.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';
import { User } from './User.js';

export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Mutation,
  Subscription,
  Booking,
  BookingEvent,
  User,
  Program,
};
