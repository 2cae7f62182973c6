import { badInput, forbidden, isAdmin, parseId, requireViewer } from '@fitsync/service-kit';
import type { ProgramResolvers } from '../__generated__/resolvers-types.js';
import { programAdherence } from '../adherence.js';

export const Program: ProgramResolvers = {
  adherence: async (program, _, ctx) => {
    const viewer = requireViewer(ctx);
    // The parties come from training through @requires: the program's client and trainer.
    if (!isAdmin(viewer) && viewer.id !== program.client?.id && viewer.id !== program.trainer?.id) throw forbidden();
    const { startDate, endDate, plannedSessions } = program;
    if (!startDate || !endDate || plannedSessions == null) throw badInput('Program.adherence needs startDate, endDate and plannedSessions from training');
    const completed = await ctx.store.completedSessions(parseId(program.id));
    return programAdherence({ startDate, endDate, plannedSessions }, completed, ctx.store.today());
  },
};
