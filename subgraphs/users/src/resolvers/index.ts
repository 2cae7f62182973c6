import { scalarResolvers } from '@fitsync/service-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { createMutation, type AuthSettings } from './Mutation.js';
import { Query } from './Query.js';
import { User } from './User.js';

export const createResolvers = (auth: AuthSettings): Resolvers => ({
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation: createMutation(auth),
  User,
});
