import { RequestLoaders, byIdLoader, type Database } from '@fitsync/service-kit';

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
  /** Trainers: when an admin approved them (null: not yet, and not listed or coaching). */
  approved_at: Date | null;
  approved_by: string | null;
  created_at: Date;
  updated_at: Date;
  /** From training, when the gateway sends it for `@requires(fields: "trainerIds")`. */
  trainerIds?: string[];
}

export const USER_COLUMNS =
  'id, email, name, role, phone, avatar_url, password_hash, trainer_profile, client_profile, approved_at, approved_by, created_at, updated_at';

export interface UserPageKey {
  createdAt: string;
  id: string;
}

/** What the users subgraph's resolvers read, behind loaders made fresh for each request. */
export class UsersStore {
  readonly #loaders = new RequestLoaders();
  constructor(readonly db: Database) {}

  userById(id: string): Promise<UserRow | null> {
    return this.#loaders.get('userById', () => byIdLoader<UserRow>(this.db, 'users', USER_COLUMNS)).load(id);
  }

  async userByEmail(email: string): Promise<UserRow | null> {
    const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
    return row ?? null;
  }

  /** One page, newest first, plus the total for the same filter; `approvedOnly` leaves out trainers no admin approved. */
  async page(role: Role | null, first: number, after: UserPageKey | null, approvedOnly = false): Promise<{ rows: UserRow[]; total: number }> {
    const params: unknown[] = [role, approvedOnly, first + 1];
    let keyset = '';
    if (after) {
      params.push(after.createdAt, after.id);
      keyset = 'AND (created_at, id) < ($4::timestamptz, $5::uuid)';
    }
    const filter = `($1::text IS NULL OR role = $1) AND (NOT $2::boolean OR role <> 'TRAINER' OR approved_at IS NOT NULL)`;
    const [rows, [count]] = await Promise.all([
      this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE ${filter} ${keyset} ORDER BY created_at DESC, id DESC LIMIT $3`, params),
      this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM users WHERE ${filter}`, [role, approvedOnly]),
    ]);
    return { rows, total: count.total };
  }
}
