import { LIMITS, RequestLoaders, byIdLoader, listLoader, rowLoader, type Database } from '@fitsync/service-kit';
import { localDate, type Clock } from '@fitsync/service-kit/clock';

export interface ExerciseLog {
  name: string;
  sets: number;
  reps: number;
  weightKg?: number | null;
}

export interface BodyMetricRow {
  id: string;
  client_id: string;
  recorded_at: Date;
  weight_kg: number | null;
  body_fat_percentage: number | null;
  muscle_mass_kg: number | null;
  resting_heart_rate: number | null;
  notes: string | null;
}

export type WorkoutLogStatus = 'STUB' | 'LOGGED';

export interface WorkoutLogRow {
  id: string;
  client_id: string;
  trainer_id: string | null;
  booking_id: string | null;
  program_id: string | null;
  workout_date: string;
  duration_minutes: number | null;
  status: WorkoutLogStatus;
  exercises: ExerciseLog[];
  perceived_effort: number | null;
  notes: string | null;
  created_at: Date;
}

export type AchievementType = 'PROGRAM_COMPLETION' | 'WEIGHT_MILESTONE' | 'WORKOUT_STREAK' | 'WORKOUT_COUNT' | 'GOAL_REACHED';

export interface AchievementRow {
  id: string;
  client_id: string;
  type: AchievementType;
  title: string;
  description: string | null;
  badge_icon: string | null;
  earned_at: Date;
  program_id: string | null;
}

export type GoalStatus = 'ACTIVE' | 'ACHIEVED' | 'ABANDONED';

export const GOAL_METRICS = ['WEIGHT_KG', 'BODY_FAT_PERCENTAGE', 'MUSCLE_MASS_KG', 'WORKOUTS_PER_WEEK'] as const;

export interface GoalRow {
  id: string;
  client_id: string;
  metric: (typeof GOAL_METRICS)[number];
  target_value: number;
  start_value: number | null;
  deadline: string | null;
  status: GoalStatus;
  achieved_at: Date | null;
  created_at: Date;
}

/** One row per client of `User.progress`, computed in SQL for every client of a request at once. */
export interface ProgressSummaryRow {
  client_id: string;
  latest_weight_kg: number | null;
  weight_change_30d_kg: number | null;
  latest_body_fat_percentage: number | null;
  workouts_this_month: number;
  current_streak_weeks: number;
  total_workouts: number;
  last_workout_date: string | null;
  active_goals: number;
}

/** A User as the gateway hands it over: its key, plus `trainerIds` from training for `@requires`. */
export interface UserRef {
  __typename?: 'User';
  id: string;
  trainerIds?: string[] | null;
}

export interface BookingRef {
  __typename?: 'Booking';
  id: string;
}

/** A Program reference; the fields `Program.adherence` requires come from training. */
export interface ProgramRef {
  __typename?: 'Program';
  id: string;
  client?: { id: string } | null;
  trainer?: { id: string } | null;
  startDate?: string | null;
  endDate?: string | null;
  plannedSessions?: number | null;
}

export const BODY_METRIC_COLUMNS = 'id, client_id, recorded_at, weight_kg, body_fat_percentage, muscle_mass_kg, resting_heart_rate, notes';
export const WORKOUT_LOG_COLUMNS =
  'id, client_id, trainer_id, booking_id, program_id, workout_date, duration_minutes, status, exercises, perceived_effort, notes, created_at';
const ACHIEVEMENT_COLUMNS = 'id, client_id, type, title, description, badge_icon, earned_at, program_id';
export const GOAL_COLUMNS = 'id, client_id, metric, target_value, start_value, deadline, status, achieved_at, created_at';

/**
 * User.progress for every client in $1 in one statement; $2 is today.
 * The streak counts ISO weeks (Monday first) with at least one workout, back from
 * this week, or from last week when there is none yet this week: consecutive weeks
 * share `week + 7 * rank` (rank by week, newest first), so the streak is the size of
 * the newest week's group.
 */
const SUMMARY_SQL = `
WITH clients AS (
  SELECT DISTINCT unnest($1::uuid[]) AS client_id
),
latest_weight AS (
  SELECT DISTINCT ON (client_id) client_id, weight_kg, recorded_at
  FROM body_metrics
  WHERE client_id = ANY($1::uuid[]) AND weight_kg IS NOT NULL
  ORDER BY client_id, recorded_at DESC, id DESC
),
earlier_weight AS (
  SELECT DISTINCT ON (b.client_id) b.client_id, b.weight_kg
  FROM body_metrics b JOIN latest_weight l ON l.client_id = b.client_id
  WHERE b.weight_kg IS NOT NULL AND b.recorded_at <= l.recorded_at - interval '30 days'
  ORDER BY b.client_id, b.recorded_at DESC, b.id DESC
),
latest_body_fat AS (
  SELECT DISTINCT ON (client_id) client_id, body_fat_percentage
  FROM body_metrics
  WHERE client_id = ANY($1::uuid[]) AND body_fat_percentage IS NOT NULL
  ORDER BY client_id, recorded_at DESC, id DESC
),
workouts AS (
  SELECT client_id,
         count(*)::int AS total,
         count(*) FILTER (WHERE date_trunc('month', workout_date::timestamp) = date_trunc('month', $2::date::timestamp))::int AS this_month,
         max(workout_date) AS last_date
  FROM workout_logs
  WHERE client_id = ANY($1::uuid[])
  GROUP BY client_id
),
weeks AS (
  SELECT DISTINCT client_id, workout_date - (extract(isodow FROM workout_date)::int - 1) AS week
  FROM workout_logs
  WHERE client_id = ANY($1::uuid[]) AND workout_date <= $2::date
),
ranked AS (
  SELECT client_id, week,
         max(week) OVER (PARTITION BY client_id) AS newest,
         week + (7 * row_number() OVER (PARTITION BY client_id ORDER BY week DESC))::int AS run
  FROM weeks
),
streaks AS (
  SELECT client_id, count(*)::int AS weeks
  FROM ranked
  WHERE run = newest + 7
    AND newest >= $2::date - (extract(isodow FROM $2::date)::int - 1) - 7
  GROUP BY client_id
),
goal_counts AS (
  SELECT client_id, count(*)::int AS active
  FROM goals
  WHERE client_id = ANY($1::uuid[]) AND status = 'ACTIVE'
  GROUP BY client_id
)
SELECT c.client_id,
       lw.weight_kg AS latest_weight_kg,
       lw.weight_kg - ew.weight_kg AS weight_change_30d_kg,
       bf.body_fat_percentage AS latest_body_fat_percentage,
       COALESCE(w.this_month, 0) AS workouts_this_month,
       COALESCE(s.weeks, 0) AS current_streak_weeks,
       COALESCE(w.total, 0) AS total_workouts,
       w.last_date AS last_workout_date,
       COALESCE(g.active, 0) AS active_goals
FROM clients c
LEFT JOIN latest_weight lw ON lw.client_id = c.client_id
LEFT JOIN earlier_weight ew ON ew.client_id = c.client_id
LEFT JOIN latest_body_fat bf ON bf.client_id = c.client_id
LEFT JOIN workouts w ON w.client_id = c.client_id
LEFT JOIN streaks s ON s.client_id = c.client_id
LEFT JOIN goal_counts g ON g.client_id = c.client_id`;

/** The newest `$2` rows per client of `table`, for every client in $1, in one statement. */
const newestPerClient = (table: string, columns: string, order: string, filter = 'true') => `
SELECT ${columns} FROM (
  SELECT ${columns}, row_number() OVER (PARTITION BY client_id ORDER BY ${order}) AS rn
  FROM ${table}
  WHERE client_id = ANY($1::uuid[]) AND ${filter}
) ranked
WHERE rn <= $2
ORDER BY client_id, rn`;

/** What the progress subgraph's resolvers read, behind loaders made fresh for each request. */
export class ProgressStore {
  readonly #loaders = new RequestLoaders();
  constructor(
    readonly db: Database,
    readonly clock: Clock,
  ) {}

  /** The gym's calendar day, from the service's clock. */
  today(): string {
    return localDate(this.clock());
  }

  #byId<R extends { id: string }>(table: string, columns: string) {
    return this.#loaders.get(`${table}:byId`, () => byIdLoader<R>(this.db, table, columns));
  }

  bodyMetricById(id: string): Promise<BodyMetricRow | null> {
    return this.#byId<BodyMetricRow>('body_metrics', BODY_METRIC_COLUMNS).load(id);
  }

  workoutLogById(id: string): Promise<WorkoutLogRow | null> {
    return this.#byId<WorkoutLogRow>('workout_logs', WORKOUT_LOG_COLUMNS).load(id);
  }

  achievementById(id: string): Promise<AchievementRow | null> {
    return this.#byId<AchievementRow>('achievements', ACHIEVEMENT_COLUMNS).load(id);
  }

  goalById(id: string): Promise<GoalRow | null> {
    return this.#byId<GoalRow>('goals', GOAL_COLUMNS).load(id);
  }

  workoutLogByBooking(bookingId: string): Promise<WorkoutLogRow | null> {
    return this.#loaders
      .get('workoutLogByBooking', () =>
        rowLoader(
          (ids: readonly string[]) => this.db.query<WorkoutLogRow>(`SELECT ${WORKOUT_LOG_COLUMNS} FROM workout_logs WHERE booking_id = ANY($1::uuid[])`, [ids]),
          (r) => r.booking_id!,
        ),
      )
      .load(bookingId);
  }

  /** Workout logs recorded against each program (any status). */
  async completedSessions(programId: string): Promise<number> {
    const row = await this.#loaders
      .get('completedSessions', () =>
        rowLoader(
          (ids: readonly string[]) =>
            this.db.query<{ program_id: string; completed: number }>(
              'SELECT program_id, count(*)::int AS completed FROM workout_logs WHERE program_id = ANY($1::uuid[]) GROUP BY program_id',
              [ids],
            ),
          (r) => r.program_id,
        ),
      )
      .load(programId);
    return row?.completed ?? 0;
  }

  async summary(clientId: string): Promise<ProgressSummaryRow> {
    const row = await this.#loaders
      .get('summary', () =>
        rowLoader(
          (ids: readonly string[]) => this.db.query<ProgressSummaryRow>(SUMMARY_SQL, [ids, this.today()]),
          (r) => r.client_id,
        ),
      )
      .load(clientId);
    return row!;
  }

  bodyMetrics(clientId: string, first: number): Promise<BodyMetricRow[]> {
    return this.#newest<BodyMetricRow>('body_metrics', BODY_METRIC_COLUMNS, 'recorded_at DESC, id DESC', first).load(clientId);
  }

  workoutLogs(clientId: string, first: number): Promise<WorkoutLogRow[]> {
    return this.#newest<WorkoutLogRow>('workout_logs', WORKOUT_LOG_COLUMNS, 'workout_date DESC, created_at DESC, id DESC', first).load(clientId);
  }

  achievements(clientId: string, first: number): Promise<AchievementRow[]> {
    return this.#newest<AchievementRow>('achievements', ACHIEVEMENT_COLUMNS, 'earned_at DESC, id DESC', first).load(clientId);
  }

  /** Newest first; all statuses when `status` is null. Not paged in the schema, so capped at the largest page. */
  goals(clientId: string, status: GoalStatus | null): Promise<GoalRow[]> {
    return this.#loaders
      .get(`goals:${status ?? '*'}`, () =>
        listLoader(
          (ids: readonly string[]) =>
            this.db.query<GoalRow>(newestPerClient('goals', GOAL_COLUMNS, 'created_at DESC, id DESC', '($3::text IS NULL OR status = $3)'), [
              ids,
              LIMITS.page,
              status,
            ]),
          (r) => r.client_id,
        ),
      )
      .load(clientId);
  }

  #newest<R extends { client_id: string }>(table: string, columns: string, order: string, first: number) {
    return this.#loaders.get(`${table}:newest:${first}`, () =>
      listLoader(
        (ids: readonly string[]) => this.db.query<R>(newestPerClient(table, columns, order), [ids, first]),
        (r) => r.client_id,
      ),
    );
  }
}
