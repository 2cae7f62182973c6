import { z } from 'zod';
import type { Role } from './auth.js';
import { badInput } from './errors.js';
import { serviceOperation, type CallerIdentity, type ServiceClient } from './service-client.js';

const ROLES_OF = serviceOperation<{ r: { __typename: 'User'; id: string }[] }>()(
  'query RolesOf($r: [_Any!]!) { _entities(representations: $r) { ... on User { id role } } }',
  z.object({ _entities: z.array(z.object({ id: z.string(), role: z.enum(['CLIENT', 'TRAINER', 'ADMIN']) }).nullable()) }),
);

/** A user an input names (`field`), and the role it must have. */
export interface ExpectedRole {
  field: string;
  id: string;
  role: Role;
}

/**
 * Asks users, in one request, for the role of every user an input names. A user that
 * does not exist, or has another role, is the caller's BAD_USER_INPUT named by its field:
 * first any unknown user, then any wrong role, each in the order given.
 */
export async function assertUserRoles(users: ServiceClient, caller: CallerIdentity, expected: readonly ExpectedRole[]): Promise<void> {
  const data = await users.call(ROLES_OF, { r: expected.map(({ id }) => ({ __typename: 'User' as const, id })) }, caller);
  const found = expected.map((e, i) => ({ ...e, user: data._entities[i] }));
  const missing = found.find((f) => !f.user);
  if (missing) throw badInput(`${missing.field}: no user ${missing.id}`, missing.field);
  const wrong = found.find((f) => f.user!.role !== f.role);
  if (wrong) throw badInput(`${wrong.field}: user ${wrong.id} is not a ${wrong.role.toLowerCase()}`, wrong.field);
}
