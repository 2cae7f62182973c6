import type { BookingEventResolvers } from '../__generated__/resolvers-types.js';

export const BookingEvent: BookingEventResolvers = {
  at: (event) => event.at,
};
