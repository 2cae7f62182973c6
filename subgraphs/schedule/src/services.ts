import {
  assertUserRoles,
  conflict,
  createServiceClients,
  forbidden,
  serviceOperation,
  type Logger,
  type Metrics,
  type ServiceConfig,
} from '@fitsync/service-kit';
import { z } from 'zod';
import type { Context } from './context.js';

/** What schedule asks other subgraphs before it books: typed operations, answers checked with zod. */

const BOOKABLE_PAIR = serviceOperation<{ clientId: string; trainerId: string }>()(
  `query BookablePair($clientId: ID!, $trainerId: ID!) {
     acceptedCoaching(clientId: $clientId, trainerId: $trainerId) { id }
     activeProgram(clientId: $clientId, trainerId: $trainerId) { id }
   }`,
  z.object({ acceptedCoaching: z.object({ id: z.string() }).nullable(), activeProgram: z.object({ id: z.string() }).nullable() }),
);

/** Bookings are validated against users (who is who) and training (who coaches whom, active programs). */
export const createScheduleServices = (config: ServiceConfig, log: Logger, metrics?: Metrics) =>
  createServiceClients(config, ['users', 'training'], log, { metrics });

/** What schedule builds once at start-up and its resolvers reach as `ctx.services`: a client per subgraph it asks. */
export type ScheduleServices = ReturnType<typeof createScheduleServices>;

/**
 * Both parties in one request to users: each must exist with its role. An unknown or
 * wrong-role user is the caller's bad input, named by its field.
 */
export const assertParties = (ctx: Context, clientId: string, trainerId: string) =>
  assertUserRoles(ctx.services.users, ctx, [
    { field: 'clientId', id: clientId, role: 'CLIENT' },
    { field: 'trainerId', id: trainerId, role: 'TRAINER' },
  ]);

export const NOT_COACHING = 'This trainer does not coach this client: the client must accept a coaching request first';

/**
 * The pair's accepted coaching relationship and the client's active program with this
 * trainer, in one request to training, which owns both answers: FORBIDDEN unless the two
 * have an accepted relationship (the client agreed to be trained by them), then CONFLICT
 * without an active program.
 */
export async function bookablePair(ctx: Context, clientId: string, trainerId: string): Promise<{ coachingId: string; programId: string }> {
  const data = await ctx.services.training.call(BOOKABLE_PAIR, { clientId, trainerId }, ctx);
  if (!data.acceptedCoaching) throw forbidden(NOT_COACHING);
  if (!data.activeProgram) throw conflict('The client has no active program with this trainer', 'NO_ACTIVE_PROGRAM');
  return { coachingId: data.acceptedCoaching.id, programId: data.activeProgram.id };
}
