import { RequestLoaders, rowLoader, type Database, type Queryable } from '@fitsync/service-kit';

export type Role = 'CLIENT' | 'TRAINER' | 'ADMIN';

export interface TrainerProfile {
  certifications: string[];
  specializations: string[];
  yearsExperience: number;
  rating?: number | null;
  bio?: string | null;
}

export interface ClientProfile {
  fitnessLevel: 'BEGINNER' | 'INTERMEDIATE' | 'ADVANCED';
  healthClearance: boolean;
  emergencyContact?: { name: string; phone: string; relationship?: string | null } | null;
  dateOfBirth?: string | null;
  goalsSummary?: string | null;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  phone: string | null;
  avatar_url: string | null;
  password_hash: string;
  trainer_profile: TrainerProfile | null;
  client_profile: ClientProfile | null;
  created_at: Date;
  updated_at: Date;
  /** From training, when the gateway sends it for `@requires(fields: "trainerIds")`. */
  trainerIds?: string[];
}

const USER_COLUMNS = 'id, email, name, role, phone, avatar_url, password_hash, trainer_profile, client_profile, created_at, updated_at';

export interface UserPageKey {
  createdAt: string;
  id: string;
}

/** The users subgraph's SQL, behind loaders made fresh for each request. */
export class UsersStore {
  readonly #loaders = new RequestLoaders();
  constructor(readonly db: Database) {}

  userById(id: string): Promise<UserRow | null> {
    return this.#loaders
      .get('userById', () =>
        rowLoader(
          (ids: readonly string[]) => this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::uuid[])`, [ids]),
          (r) => r.id,
        ),
      )
      .load(id);
  }

  async userByEmail(email: string): Promise<UserRow | null> {
    const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
    return row ?? null;
  }

  /** One page, newest first, plus the total for the same filter. */
  async page(role: Role | null, first: number, after: UserPageKey | null): Promise<{ rows: UserRow[]; total: number }> {
    const params: unknown[] = [role, first + 1];
    let keyset = '';
    if (after) {
      params.push(after.createdAt, after.id);
      keyset = 'AND (created_at, id) < ($3::timestamptz, $4::uuid)';
    }
    const [rows, [count]] = await Promise.all([
      this.db.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE ($1::text IS NULL OR role = $1) ${keyset} ORDER BY created_at DESC, id DESC LIMIT $2`,
        params,
      ),
      this.db.query<{ total: number }>('SELECT count(*)::int AS total FROM users WHERE ($1::text IS NULL OR role = $1)', [role]),
    ]);
    return { rows, total: count.total };
  }

  async insert(user: Omit<UserRow, 'updated_at' | 'avatar_url'>, q: Queryable = this.db): Promise<UserRow> {
    const [row] = await q.query<UserRow>(
      `INSERT INTO users (id, email, name, role, phone, password_hash, trainer_profile, client_profile, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ${USER_COLUMNS}`,
      [user.id, user.email, user.name, user.role, user.phone, user.password_hash, user.trainer_profile, user.client_profile, user.created_at],
    );
    return row;
  }

  async update(
    id: string,
    changes: Partial<Pick<UserRow, 'name' | 'phone' | 'avatar_url' | 'trainer_profile' | 'client_profile'>>,
    q: Queryable = this.db,
  ): Promise<UserRow | null> {
    const [row] = await q.query<UserRow>(
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
}
