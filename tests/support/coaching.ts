import { expect } from 'vitest';
import type { Platform } from './platform.js';

type Person = { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' };

const REQUEST = 'mutation($i: RequestCoachingInput!) { requestCoaching(input: $i) { id status } }';
const ACCEPT = 'mutation($id: ID!) { acceptCoaching(id: $id) { id status } }';

/**
 * Consent set up through the graph, as users would: the trainer asks to coach the client and
 * the client accepts. A test that assigns programs to, or books, a pair of its own calls this
 * first (the trainer must be approved: the demo gym's are). Returns the relationship's id.
 */
export async function coach(platform: Platform, trainer: Person, client: Person): Promise<string> {
  const asked = await platform.query(REQUEST, { i: { clientId: client.id } }, await platform.tokenFor(trainer));
  expect(asked.errors, 'requestCoaching').toBeUndefined();
  const accepted = await platform.query(ACCEPT, { id: asked.data.requestCoaching.id }, await platform.tokenFor(client));
  expect(accepted.errors, 'acceptCoaching').toBeUndefined();
  expect(accepted.data.acceptCoaching.status).toBe('ACCEPTED');
  return accepted.data.acceptCoaching.id as string;
}
