import { notFound, parseId, requireViewer } from '@fitsync/service-kit';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { assertCanAskAboutPair, assertCoachingParty, assertProgramParty } from '../access.js';

export const Query: QueryResolvers = {
  program: async (_, { id }, ctx) => {
    requireViewer(ctx);
    const program = await ctx.store.programById(parseId(id));
    if (!program) throw notFound('Program', id);
    return assertProgramParty(ctx, program);
  },

  activeProgram: async (_, args, ctx) => {
    const viewer = requireViewer(ctx);
    const clientId = parseId(args.clientId, 'clientId');
    const trainerId = parseId(args.trainerId, 'trainerId');
    assertCanAskAboutPair(viewer, clientId, trainerId);
    return ctx.store.activeProgramBetween(clientId, trainerId);
  },

  coaching: async (_, { id }, ctx) => {
    const viewer = requireViewer(ctx);
    const coaching = await ctx.store.coachingById(parseId(id));
    if (!coaching) throw notFound('Coaching', id);
    assertCoachingParty(viewer, coaching);
    return coaching;
  },

  acceptedCoaching: async (_, args, ctx) => {
    const viewer = requireViewer(ctx);
    const clientId = parseId(args.clientId, 'clientId');
    const trainerId = parseId(args.trainerId, 'trainerId');
    assertCanAskAboutPair(viewer, clientId, trainerId);
    return ctx.store.acceptedCoachingBetween(clientId, trainerId);
  },
};
