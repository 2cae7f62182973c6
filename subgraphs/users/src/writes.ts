import { updateById, type Queryable } from '@fitsync/service-kit';
import { USER_COLUMNS, type UserRow } from './store.js';

// The SQL that changes users. Mutations run it in their transaction (`tx`), or alone on the database when it is one statement.

export async function insertUser(tx: Queryable, user: Omit<UserRow, 'updated_at' | 'avatar_url' | 'approved_at' | 'approved_by'>): Promise<UserRow> {
  const [row] = await tx.query<UserRow>(
    `INSERT INTO users (id, email, name, role, phone, password_hash, trainer_profile, client_profile, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ${USER_COLUMNS}`,
    [user.id, user.email, user.name, user.role, user.phone, user.password_hash, user.trainer_profile, user.client_profile, user.created_at],
  );
  return row;
}

/** Sets the profile fields given (left out or null: unchanged) and `updated_at`. */
export async function updateUser(
  tx: Queryable,
  id: string,
  changes: Partial<Pick<UserRow, 'name' | 'phone' | 'avatar_url' | 'trainer_profile' | 'client_profile'>>,
): Promise<UserRow | null> {
  const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v != null));
  return updateById<UserRow>(tx, 'users', id, set, USER_COLUMNS);
}

/** Approves a trainer no admin approved yet; null when there is none to approve (unknown, not a trainer, or already approved). */
export async function approveTrainer(tx: Queryable, id: string, by: string, at: Date): Promise<UserRow | null> {
  const [row] = await tx.query<UserRow>(
    `UPDATE users SET approved_at = $3, approved_by = $2, updated_at = $3
     WHERE id = $1 AND role = 'TRAINER' AND approved_at IS NULL RETURNING ${USER_COLUMNS}`,
    [id, by, at],
  );
  return row ?? null;
}
