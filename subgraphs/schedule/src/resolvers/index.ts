import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Booking } from './Booking.js';
import { Program } from './Program.js';
import { Query } from './Query.js';
import { User } from './User.js';

export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Booking,
  User,
  Program,
};
