import { randomUUID } from 'node:crypto';
import { hashPassword, type Queryable } from '@fitsync/service-kit';
import type { z } from 'zod';
import type { UserRow } from './store.js';
import { registerInput } from './validation.js';
import { insertUser } from './writes.js';

/** What `npm run admin:create` is given: the same rules as a registration's email, password and name. */
export const adminInput = registerInput.pick({ email: true, password: true, name: true });
export type AdminInput = z.input<typeof adminInput>;

/** Why no admin was created: the email is taken, or the input breaks a rule (each problem named by its field). */
export class AdminRefused extends Error {}

/**
 * Creates an ADMIN account (admins cannot register themselves: this is how the first one is
 * made, in any environment). Refuses an email that already has an account, whatever its role:
 * nothing is changed then.
 */
export async function createAdmin(db: Queryable, input: AdminInput, at: Date): Promise<UserRow> {
  const parsed = adminInput.safeParse(input);
  if (!parsed.success) throw new AdminRefused(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  const data = parsed.data;
  const [taken] = await db.query<{ id: string }>('SELECT id FROM users WHERE lower(email) = lower($1)', [data.email]);
  if (taken) throw new AdminRefused(`An account with the email ${data.email} already exists; nothing was changed`);
  return insertUser(db, {
    id: randomUUID(),
    email: data.email,
    name: data.name,
    role: 'ADMIN',
    phone: null,
    password_hash: await hashPassword(data.password),
    trainer_profile: null,
    client_profile: null,
    created_at: at,
  }).catch((err: { code?: string }) => {
    if (err.code === '23505') throw new AdminRefused(`An account with the email ${data.email} already exists; nothing was changed`);
    throw err;
  });
}
