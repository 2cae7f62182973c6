import type { Queryable } from '@fitsync/service-kit';
import { USER_COLUMNS, type UserRow } from './store.js';

// The SQL that changes users. Mutations run it in their transaction (`tx`), or alone on the database when it is one statement.

export async function insertUser(tx: Queryable, user: Omit<UserRow, 'updated_at' | 'avatar_url'>): Promise<UserRow> {
  const [row] = await tx.query<UserRow>(
    `INSERT INTO users (id, email, name, role, phone, password_hash, trainer_profile, client_profile, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ${USER_COLUMNS}`,
    [user.id, user.email, user.name, user.role, user.phone, user.password_hash, user.trainer_profile, user.client_profile, user.created_at],
  );
  return row;
}

export async function updateUser(
  tx: Queryable,
  id: string,
  changes: Partial<Pick<UserRow, 'name' | 'phone' | 'avatar_url' | 'trainer_profile' | 'client_profile'>>,
): Promise<UserRow | null> {
  const [row] = await tx.query<UserRow>(
    `UPDATE users SET
       name = COALESCE($2, name),
       phone = COALESCE($3, phone),
       avatar_url = COALESCE($4, avatar_url),
       trainer_profile = COALESCE($5, trainer_profile),
       client_profile = COALESCE($6, client_profile),
       updated_at = now()
     WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [id, changes.name ?? null, changes.phone ?? null, changes.avatar_url ?? null, changes.trainer_profile ?? null, changes.client_profile ?? null],
  );
  return row ?? null;
}
