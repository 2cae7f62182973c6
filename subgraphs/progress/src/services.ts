import { badInput, createServiceClients, forbidden, isAdmin, requireViewer, serviceOperation, type Logger, type ServiceClient, type ServiceConfig } from '@fitsync/service-kit';
import type { Context } from './context.js';
import { z } from 'zod';

/** What progress asks other subgraphs before it writes about a client. */

const ROLE_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query RoleOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { id role } } }',
  z.object({ _entities: z.array(z.object({ id: z.string(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']) }).nullable()) }),
);

const TRAINERS_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query TrainersOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { trainerIds } } }',
  z.object({ _entities: z.array(z.object({ trainerIds: z.array(z.string()) }).nullable()) }),
);

/** What progress builds once at start-up and its resolvers reach as `ctx.services`. */
export interface ProgressServices {
  users: ServiceClient;
  training: ServiceClient;
}

/** Writes about a client check them with users (a CLIENT) and training (who trains them). */
export const createProgressServices = (config: ServiceConfig, log: Logger): ProgressServices => createServiceClients(config, ['users', 'training'], log);

/**
 * The client a write is about: the signed-in client themself (no call needed), or a
 * CLIENT that users knows (an admin), trained by the signed-in trainer (training knows).
 */
export async function writableClient(ctx: Context, named: string | null | undefined): Promise<string> {
  const viewer = requireViewer(ctx);
  const clientId = named ?? viewer.id;
  if (clientId === viewer.id) {
    if (viewer.role !== 'CLIENT') throw badInput('clientId: only clients have body metrics and goals', 'clientId');
    return clientId;
  }
  if (viewer.role === 'CLIENT') throw forbidden('Clients record only their own progress');
  const ref = [{ __typename: 'User' as const, id: clientId }];
  const [roles, trainers] = await Promise.all([
    ctx.services.users.call(ROLE_OF, { r: ref }, ctx),
    isAdmin(viewer) ? null : ctx.services.training.call(TRAINERS_OF, { r: ref }, ctx),
  ]);
  const client = roles._entities[0];
  if (!client) throw badInput(`clientId: no user ${clientId}`, 'clientId');
  if (client.role !== 'CLIENT') throw badInput(`clientId: user ${clientId} is not a client`, 'clientId');
  if (trainers && !trainers._entities[0]?.trainerIds.includes(viewer.id)) throw forbidden('Trainers record progress only for their own clients');
  return clientId;
}
