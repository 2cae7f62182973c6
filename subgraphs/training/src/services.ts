import {
  assertUserRoles,
  badInput,
  createServiceClients,
  forbidden,
  serviceOperation,
  type Logger,
  type Metrics,
  type ServiceConfig,
} from '@fitsync/service-kit';
import { z } from 'zod';
import type { Context } from './context.js';
import { endDateOf, plannedSessionsOf } from './lifecycle.js';
import type { ProgramRow, WorkoutPlanRow } from './store.js';

/** What training asks other subgraphs: typed operations, answers checked with zod. */

interface ProgramRepresentation {
  __typename: 'Program';
  id: string;
  client: { id: string };
  trainer: { id: string };
  startDate: string;
  endDate: string;
  plannedSessions: number;
}

const ADHERENCE = serviceOperation<{ r: ProgramRepresentation[] }>()(
  'query ProgramAdherence($r: [_Any!]!) { _entities(representations: $r) { ... on Program { adherence { rate } } } }',
  z.object({ _entities: z.array(z.object({ adherence: z.object({ rate: z.number().min(0).max(1) }).nullable() }).nullable()) }),
);

/** Users checks who is a trainer or a client; progress computes adherence on completion. */
export const createTrainingServices = (config: ServiceConfig, log: Logger, metrics?: Metrics) =>
  createServiceClients(config, ['users', 'progress'], log, { metrics });

/** What training builds once at start-up and its resolvers reach as `ctx.services`: a client per subgraph it asks. */
export type TrainingServices = ReturnType<typeof createTrainingServices>;

/** Trainer and client in one request to users: each must exist with its role. */
export const assertTrainerAndClient = (ctx: Context, trainerId: string, clientId: string) =>
  assertUserRoles(ctx.services.users, ctx, [
    { field: 'trainerId', id: trainerId, role: 'TRAINER' },
    { field: 'clientId', id: clientId, role: 'CLIENT' },
  ]);

const COACHING_PARTIES = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query CoachingParties($r: [_Any!]!) { _entities(representations: $r) { ... on User { id role trainerProfile { approved } } } }',
  z.object({
    _entities: z.array(
      z.object({ id: z.string(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']), trainerProfile: z.object({ approved: z.boolean() }).nullable() }).nullable(),
    ),
  }),
);

/**
 * Before a coaching request, in one request to users: the trainer is a TRAINER an admin
 * approved, the client a CLIENT. Users owns approval and is asked at the moment it matters
 * (a request is rare, and an approval is then in force at once), rather than training
 * keeping a copy fed by `trainer.approved` that could lag behind.
 */
export async function assertCoachingParties(ctx: Context, trainerId: string, clientId: string): Promise<void> {
  const data = await ctx.services.users.call(COACHING_PARTIES, { r: [trainerId, clientId].map((id) => ({ __typename: 'User' as const, id })) }, ctx);
  const [trainer, client] = data._entities;
  if (!trainer) throw badInput(`trainerId: no user ${trainerId}`, 'trainerId');
  if (!client) throw badInput(`clientId: no user ${clientId}`, 'clientId');
  if (trainer.role !== 'TRAINER') throw badInput(`trainerId: user ${trainerId} is not a trainer`, 'trainerId');
  if (client.role !== 'CLIENT') throw badInput(`clientId: user ${clientId} is not a client`, 'clientId');
  if (!trainer.trainerProfile?.approved)
    throw forbidden('This trainer is not approved yet: an admin approves self-registered trainers before they can coach anyone');
}

/**
 * The adherence progress computes for a program (logged workouts against planned
 * sessions), or null when progress cannot say: the rate is a default, not a precondition.
 */
export async function computedAdherence(ctx: Context, row: ProgramRow, plan: WorkoutPlanRow | null): Promise<number | null> {
  // The fields Program.adherence @requires, as the gateway would send them.
  const program: ProgramRepresentation = {
    __typename: 'Program',
    id: row.id,
    client: { id: row.client_id },
    trainer: { id: row.trainer_id },
    startDate: row.start_date,
    endDate: endDateOf(row),
    plannedSessions: plannedSessionsOf(row, plan),
  };
  try {
    const data = await ctx.services.progress.call(ADHERENCE, { r: [program] }, ctx);
    return data._entities[0]?.adherence?.rate ?? null;
  } catch (err) {
    ctx.log.warn({ programId: program.id, reason: (err as Error).message }, 'adherence unavailable; completing without it');
    return null;
  }
}
