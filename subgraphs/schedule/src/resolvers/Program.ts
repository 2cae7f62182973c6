import { pageSize, parseId, requireViewer } from '@fitsync/service-kit';
import type { ProgramResolvers } from '../__generated__/resolvers-types.js';

export const Program: ProgramResolvers = {
  bookings: (program, { first }, ctx) => ctx.store.programBookings(parseId(program.id), requireViewer(ctx), pageSize(first, 20)),
};
