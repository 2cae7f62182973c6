import { assertUserRoles, createServiceClients, serviceOperation, type Logger, type Metrics, type ServiceConfig } from '@fitsync/service-kit';
import { z } from 'zod';
import type { Context } from './context.js';

/** What progress asks other subgraphs before it writes about a client. */

const TRAINERS_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query TrainersOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { trainerIds } } }',
  z.object({ _entities: z.array(z.object({ trainerIds: z.array(z.string()) }).nullable()) }),
);

/** Writes about a client check them with users (a CLIENT) and training (who trains them). */
export const createProgressServices = (config: ServiceConfig, log: Logger, metrics?: Metrics) =>
  createServiceClients(config, ['users', 'training'], log, { metrics });

/** What progress builds once at start-up and its resolvers reach as `ctx.services`: a client per subgraph it asks. */
export type ProgressServices = ReturnType<typeof createProgressServices>;

/** Who trains a client, as training knows it. */
export async function trainerIdsOf(ctx: Context, clientId: string): Promise<string[]> {
  const data = await ctx.services.training.call(TRAINERS_OF, { r: [{ __typename: 'User', id: clientId }] }, ctx);
  return data._entities[0]?.trainerIds ?? [];
}

/** A CLIENT that users knows, or BAD_USER_INPUT on clientId. */
export const assertIsClient = (ctx: Context, clientId: string) =>
  assertUserRoles(ctx.services.users, ctx, [{ field: 'clientId', id: clientId, role: 'CLIENT' }]);
