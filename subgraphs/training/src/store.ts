import { RequestLoaders, byIdLoader, isUuid, listLoader, type Database } from '@fitsync/service-kit';

export type ProgramStatus = 'ACTIVE' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

export interface ProgramRow {
  id: string;
  client_id: string;
  trainer_id: string;
  name: string;
  description: string | null;
  /** 'YYYY-MM-DD' */
  start_date: string;
  duration_weeks: number;
  status: ProgramStatus;
  adherence_rate: number | null;
  completed_at: Date | null;
  workout_plan_id: string | null;
  diet_plan_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** One exercise of a workout plan, stored in its GraphQL shape in `workout_plans.exercises`. */
export interface ExerciseJson {
  name: string;
  sets: number;
  reps: number;
  restSeconds?: number | null;
  notes?: string | null;
}

export interface WorkoutPlanRow {
  id: string;
  name: string;
  sessions_per_week: number;
  exercises: ExerciseJson[];
  notes: string | null;
}

export interface DietPlanRow {
  id: string;
  name: string;
  daily_calories: number;
  protein_grams: number | null;
  carbs_grams: number | null;
  fat_grams: number | null;
  notes: string | null;
}

export type CoachingStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'ENDED';

/** Who trains whom: a request or an agreed relationship between a trainer and a client. */
export interface CoachingRow {
  id: string;
  client_id: string;
  trainer_id: string;
  status: CoachingStatus;
  requested_by: string;
  requested_at: Date;
  accepted_by: string | null;
  accepted_at: Date | null;
  ended_by: string | null;
  ended_at: Date | null;
  updated_at: Date;
}

export const COACHING_COLUMNS = 'id, client_id, trainer_id, status, requested_by, requested_at, accepted_by, accepted_at, ended_by, ended_at, updated_at';

export interface CoachingQuery {
  status: CoachingStatus | null;
  first: number;
}

/** A User as this subgraph knows it: the key only; users owns everything else. */
export interface UserRef {
  __typename?: 'User';
  id: string;
}

export interface ProgramsQuery {
  status: ProgramStatus | null;
  first: number;
  /** Only programs where this user is a party (a trainer looking at a client); null for all. */
  partyOf: string | null;
}

export const PROGRAM_COLUMNS =
  'id, client_id, trainer_id, name, description, start_date, duration_weeks, status, adherence_rate, completed_at, workout_plan_id, diet_plan_id, created_at, updated_at';

type Owned<T> = T & { owner_id: string };

/** Malformed ids never reach SQL (a uuid cast would fail the whole batch): they simply match nothing. */
const uuids = (keys: readonly string[]) => keys.filter(isUuid);

/** What the training subgraph's resolvers read, behind loaders made fresh for each request. */
export class TrainingStore {
  readonly #loaders = new RequestLoaders();
  constructor(readonly db: Database) {}

  programById(id: string): Promise<ProgramRow | null> {
    return this.#loaders.get('programById', () => byIdLoader<ProgramRow>(this.db, 'programs', PROGRAM_COLUMNS, isUuid)).load(id);
  }

  workoutPlanById(id: string): Promise<WorkoutPlanRow | null> {
    return this.#loaders
      .get('workoutPlanById', () => byIdLoader<WorkoutPlanRow>(this.db, 'workout_plans', 'id, name, sessions_per_week, exercises, notes', isUuid))
      .load(id);
  }

  dietPlanById(id: string): Promise<DietPlanRow | null> {
    return this.#loaders
      .get('dietPlanById', () =>
        byIdLoader<DietPlanRow>(this.db, 'diet_plans', 'id, name, daily_calories, protein_grams, carbs_grams, fat_grams, notes', isUuid),
      )
      .load(id);
  }

  coachingById(id: string): Promise<CoachingRow | null> {
    return this.#loaders.get('coachingById', () => byIdLoader<CoachingRow>(this.db, 'coaching_relationships', COACHING_COLUMNS, isUuid)).load(id);
  }

  /**
   * Who trains this user: the trainers of their ACCEPTED coaching relationships. Nothing
   * else makes a trainer one (a program assigned without consent included).
   */
  trainerIdsOf(userId: string): Promise<string[]> {
    return this.#loaders
      .get('trainerIds', () =>
        listLoader(
          async (ids: readonly string[]) =>
            (
              await this.db.query<{ client_id: string; trainer_id: string }>(
                `SELECT client_id, trainer_id FROM coaching_relationships
                 WHERE client_id = ANY($1::uuid[]) AND status = 'ACCEPTED'
                 ORDER BY client_id, trainer_id`,
                [uuids(ids)],
              )
            ).map((r) => ({ owner_id: r.client_id, id: r.trainer_id })),
          (r) => r.owner_id,
        ),
      )
      .load(userId)
      .then((rows) => rows.map((r) => r.id));
  }

  /**
   * Programs where the user is the client or the trainer, newest first, at most
   * `first` per user: one statement for every user of the request asking the same.
   */
  programsOf(userId: string, q: ProgramsQuery): Promise<ProgramRow[]> {
    return this.#loaders
      .get(`programs:${q.status ?? '*'}:${q.first}:${q.partyOf ?? '*'}`, () =>
        listLoader(
          (ids: readonly string[]) =>
            this.db.query<Owned<ProgramRow>>(
              // Two index scans (client side, trainer side) rather than one OR that no index serves.
              `WITH owned AS (
                 SELECT client_id AS owner_id, ${PROGRAM_COLUMNS} FROM programs
                 WHERE client_id = ANY($1::uuid[]) AND ($2::text IS NULL OR status = $2::text)
                 UNION ALL
                 SELECT trainer_id AS owner_id, ${PROGRAM_COLUMNS} FROM programs
                 WHERE trainer_id = ANY($1::uuid[]) AND ($2::text IS NULL OR status = $2::text)
               ), ranked AS (
                 SELECT owned.*, row_number() OVER (PARTITION BY owner_id ORDER BY start_date DESC, created_at DESC, id DESC) AS rn
                 FROM owned
                 WHERE $3::uuid IS NULL OR client_id = $3::uuid OR trainer_id = $3::uuid
               )
               SELECT owner_id, ${PROGRAM_COLUMNS} FROM ranked WHERE rn <= $4 ORDER BY owner_id, rn`,
              [uuids(ids), q.status, q.partyOf, q.first],
            ),
          (r) => r.owner_id,
        ),
      )
      .load(userId);
  }

  /** A trainer's distinct clients with an active program under them, longest-standing first. */
  clientIdsOf(trainerId: string, first: number): Promise<string[]> {
    return this.#loaders
      .get(`clients:${first}`, () =>
        listLoader(
          (ids: readonly string[]) =>
            this.db.query<{ trainer_id: string; client_id: string }>(
              `SELECT trainer_id, client_id FROM (
                 SELECT trainer_id, client_id,
                        row_number() OVER (PARTITION BY trainer_id ORDER BY min(start_date), client_id) AS rn
                 FROM programs p
                 WHERE trainer_id = ANY($1::uuid[]) AND status = 'ACTIVE'
                   AND EXISTS (SELECT 1 FROM coaching_relationships c
                               WHERE c.client_id = p.client_id AND c.trainer_id = p.trainer_id AND c.status = 'ACCEPTED')
                 GROUP BY trainer_id, client_id
               ) c
               WHERE rn <= $2 ORDER BY trainer_id, rn`,
              [uuids(ids), first],
            ),
          (r) => r.trainer_id,
        ),
      )
      .load(trainerId)
      .then((rows) => rows.map((r) => r.client_id));
  }

  /** The newest ACTIVE program of a client with a trainer. */
  async activeProgramBetween(clientId: string, trainerId: string): Promise<ProgramRow | null> {
    const [row] = await this.db.query<ProgramRow>(
      `SELECT ${PROGRAM_COLUMNS} FROM programs WHERE client_id = $1 AND trainer_id = $2 AND status = 'ACTIVE'
       ORDER BY start_date DESC, created_at DESC LIMIT 1`,
      [clientId, trainerId],
    );
    return row ?? null;
  }

  /** The user's relationships and requests, as client or trainer, newest first, at most `first` per user. */
  coachingOf(userId: string, q: CoachingQuery): Promise<CoachingRow[]> {
    return this.#loaders
      .get(`coaching:${q.status ?? '*'}:${q.first}`, () =>
        listLoader(
          (ids: readonly string[]) =>
            this.db.query<Owned<CoachingRow>>(
              `WITH owned AS (
                 SELECT client_id AS owner_id, ${COACHING_COLUMNS} FROM coaching_relationships
                 WHERE client_id = ANY($1::uuid[]) AND ($2::text IS NULL OR status = $2::text)
                 UNION ALL
                 SELECT trainer_id AS owner_id, ${COACHING_COLUMNS} FROM coaching_relationships
                 WHERE trainer_id = ANY($1::uuid[]) AND ($2::text IS NULL OR status = $2::text)
               ), ranked AS (
                 SELECT owned.*, row_number() OVER (PARTITION BY owner_id ORDER BY requested_at DESC, id DESC) AS rn FROM owned
               )
               SELECT owner_id, ${COACHING_COLUMNS} FROM ranked WHERE rn <= $3 ORDER BY owner_id, rn`,
              [uuids(ids), q.status, q.first],
            ),
          (r) => r.owner_id,
        ),
      )
      .load(userId);
  }

  /** The ACCEPTED relationship of a client with a trainer, or null. */
  async acceptedCoachingBetween(clientId: string, trainerId: string): Promise<CoachingRow | null> {
    const [row] = await this.db.query<CoachingRow>(
      `SELECT ${COACHING_COLUMNS} FROM coaching_relationships WHERE client_id = $1 AND trainer_id = $2 AND status = 'ACCEPTED'`,
      [clientId, trainerId],
    );
    return row ?? null;
  }
}
