import { badInput, conflict, createServiceClients, serviceOperation, type Logger, type ServiceClient, type ServiceConfig } from '@fitsync/service-kit';
import type { Context } from './context.js';
import { z } from 'zod';

/** What schedule asks other subgraphs before it books: typed operations, answers checked with zod. */

const ROLES_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query RolesOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { id role } } }',
  z.object({ _entities: z.array(z.object({ id: z.string(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']) }).nullable()) }),
);

const ACTIVE_PROGRAM = serviceOperation<{ clientId: string; trainerId: string }>()(
  'query ActiveProgram($clientId: ID!, $trainerId: ID!) { activeProgram(clientId: $clientId, trainerId: $trainerId) { id } }',
  z.object({ activeProgram: z.object({ id: z.string() }).nullable() }),
);

/** What schedule builds once at start-up and its resolvers reach as `ctx.services`. */
export interface ScheduleServices {
  users: ServiceClient;
  training: ServiceClient;
}

/** Bookings are validated against users (who is who) and training (active programs). */
export const createScheduleServices = (config: ServiceConfig, log: Logger): ScheduleServices => createServiceClients(config, ['users', 'training'], log);

/**
 * Both parties in one request to users: each must exist with its role. An unknown or
 * wrong-role user is the caller's bad input, named by its field.
 */
export async function assertParties(ctx: Context, clientId: string, trainerId: string): Promise<void> {
  const data = await ctx.services.users.call(ROLES_OF, { r: [clientId, trainerId].map((id) => ({ __typename: 'User' as const, id })) }, ctx);
  const [client, trainer] = data._entities;
  if (!client) throw badInput(`clientId: no user ${clientId}`, 'clientId');
  if (!trainer) throw badInput(`trainerId: no user ${trainerId}`, 'trainerId');
  if (client.role !== 'CLIENT') throw badInput(`clientId: user ${clientId} is not a client`, 'clientId');
  if (trainer.role !== 'TRAINER') throw badInput(`trainerId: user ${trainerId} is not a trainer`, 'trainerId');
}

/** The client's active program with this trainer (training decides), or CONFLICT. */
export async function activeProgramId(ctx: Context, clientId: string, trainerId: string): Promise<string> {
  const data = await ctx.services.training.call(ACTIVE_PROGRAM, { clientId, trainerId }, ctx);
  if (!data.activeProgram) throw conflict('The client has no active program with this trainer', 'NO_ACTIVE_PROGRAM');
  return data.activeProgram.id;
}
