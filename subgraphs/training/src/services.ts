import { badInput, serviceOperation, type CallerIdentity, type Logger, type ServiceClient } from '@fitsync/service-kit';
import { z } from 'zod';

/** What training asks other subgraphs: typed operations, answers checked with zod. */

const ROLES_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query RolesOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { id role } } }',
  z.object({ _entities: z.array(z.object({ id: z.string(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']) }).nullable()) }),
);

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

export interface TrainingServices {
  users: ServiceClient;
  progress: ServiceClient;
}

/** Trainer and client in one request to users: each must exist with its role. */
export async function assertTrainerAndClient(services: TrainingServices, caller: CallerIdentity, trainerId: string, clientId: string): Promise<void> {
  const data = await services.users.call(ROLES_OF, { r: [trainerId, clientId].map((id) => ({ __typename: 'User' as const, id })) }, caller);
  const [trainer, client] = data._entities;
  if (!trainer) throw badInput(`trainerId: no user ${trainerId}`, 'trainerId');
  if (!client) throw badInput(`clientId: no user ${clientId}`, 'clientId');
  if (trainer.role !== 'TRAINER') throw badInput(`trainerId: user ${trainerId} is not a trainer`, 'trainerId');
  if (client.role !== 'CLIENT') throw badInput(`clientId: user ${clientId} is not a client`, 'clientId');
}

/**
 * The adherence progress computes for a program (logged workouts against planned
 * sessions), or null when progress cannot say: the rate is a default, not a precondition.
 */
export async function computedAdherence(services: TrainingServices, caller: CallerIdentity, program: ProgramRepresentation, log: Logger): Promise<number | null> {
  try {
    const data = await services.progress.call(ADHERENCE, { r: [program] }, caller);
    return data._entities[0]?.adherence?.rate ?? null;
  } catch (err) {
    log.warn({ programId: program.id, reason: (err as Error).message }, 'adherence unavailable; completing without it');
    return null;
  }
}
