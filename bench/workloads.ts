import { readFileSync } from 'node:fs';
import type { Gym } from '@fitsync/demo-data';
import { signUserToken, type Role } from '@fitsync/service-kit';

/** One kind of client request, sent as random users of the gym. */
export interface Workload {
  name: string;
  operationName?: string;
  query: string;
  /** Bearer tokens of the users it is sent as; each request picks one at random. */
  tokens: string[];
  userIds: string[];
}

const operation = (file: string) => readFileSync(new URL(`../operations/${file}`, import.meta.url), 'utf8');

/**
 * TrainerDashboard as random trainers, ClientDashboard as random clients, and
 * `{ me { name } }` (the gateway's fixed cost) as either. Tokens are minted with
 * the JWT secret every process of the run shares, as a login would.
 */
export async function buildWorkloads(gym: Gym, jwtSecret: string, usersPerWorkload = 200): Promise<Workload[]> {
  const sample = (role: Role | 'ANY') => {
    const pool = gym.users.filter((u) => (role === 'ANY' ? u.role !== 'ADMIN' : u.role === role));
    // Deterministic spread over the pool: the same users every run of one scale.
    const step = Math.max(1, Math.floor(pool.length / usersPerWorkload));
    return pool.filter((_, i) => i % step === 0).slice(0, usersPerWorkload);
  };
  const workload = async (name: string, role: Role | 'ANY', query: string, operationName?: string): Promise<Workload> => {
    const users = sample(role);
    const tokens = await Promise.all(users.map((u) => signUserToken({ id: u.id, role: u.role }, jwtSecret, '24h')));
    return { name, operationName, query, tokens, userIds: users.map((u) => u.id) };
  };
  return Promise.all([
    workload('TrainerDashboard', 'TRAINER', operation('TrainerDashboard.graphql'), 'TrainerDashboard'),
    workload('ClientDashboard', 'CLIENT', operation('ClientDashboard.graphql'), 'ClientDashboard'),
    workload('me { name }', 'ANY', '{ me { name } }'),
  ]);
}

export const requestBody = (w: Workload) => JSON.stringify({ query: w.query, ...(w.operationName ? { operationName: w.operationName } : {}) });
