import type { LiveTopics } from '@fitsync/live';
import { LIMITS, RequestLoaders, byIdLoader, isAdmin, listLoader, type Database, type Viewer } from '@fitsync/service-kit';
import { gymTime, type Clock, type GymTime } from '@fitsync/service-kit/clock';

export type BookingStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'COMPLETED' | 'NO_SHOW';
export const BOOKING_TYPES = ['ONE_ON_ONE', 'GROUP', 'ASSESSMENT', 'VIRTUAL'] as const;
export type BookingType = (typeof BOOKING_TYPES)[number];

export interface BookingRow {
  id: string;
  client_id: string;
  trainer_id: string;
  program_id: string | null;
  gym_id: string;
  /** 'YYYY-MM-DD', the gym's local day. */
  date: string;
  /** 'HH:MM:SS', the gym's wall-clock time. */
  start_time: string;
  end_time: string;
  type: BookingType;
  status: BookingStatus;
  notes: string | null;
  trainer_notes: string | null;
  cancellation_reason: string | null;
  cancelled_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What `Subscription.bookingChanged` resolves to: the change, and the booking as it is now. */
export interface BookingEventModel {
  change: LiveTopics['bookingChanged']['change'];
  booking: BookingRow;
  at: string;
}

/** A User as this subgraph knows it: the representation the gateway sends. */
export interface UserRef {
  __typename?: 'User';
  id: string;
  /** From training (`@requires(fields: "trainerIds")`): who trains this user. */
  trainerIds?: readonly string[] | null;
}

/** A Program as this subgraph knows it: its key. */
export interface ProgramRef {
  __typename?: 'Program';
  id: string;
}

export interface BookingFilter {
  from: string | null;
  to: string | null;
  status: BookingStatus | null;
  first: number;
}

const COLUMNS = [
  'id',
  'client_id',
  'trainer_id',
  'program_id',
  'gym_id',
  'date',
  'start_time',
  'end_time',
  'type',
  'status',
  'notes',
  'trainer_notes',
  'cancellation_reason',
  'cancelled_by',
  'created_at',
  'updated_at',
];
export const BOOKING_COLUMNS = COLUMNS.join(', ');

type Owned<K extends string> = BookingRow & Record<K, string>;

/**
 * Bookings of many users in one statement, at most `$2` per user. A booking
 * belongs to its client and its trainer, so it is matched through each column
 * (each branch on its own index) and numbered per user it matched.
 * `$1` is the user ids; `where` may use `$3` onwards.
 */
const perUserSql = (where: string, order: string) => `
  SELECT ${BOOKING_COLUMNS}, owner_id FROM (
    SELECT m.*, row_number() OVER (PARTITION BY owner_id ORDER BY ${order}) AS rn
    FROM (
      SELECT b.client_id AS owner_id, ${BOOKING_COLUMNS} FROM bookings b WHERE b.client_id = ANY($1::uuid[]) AND ${where}
      UNION ALL
      SELECT b.trainer_id AS owner_id, ${BOOKING_COLUMNS} FROM bookings b WHERE b.trainer_id = ANY($1::uuid[]) AND ${where}
    ) m
  ) numbered
  WHERE rn <= $2
  ORDER BY owner_id, rn`;

/** What the schedule subgraph's resolvers read, behind loaders made fresh for each request. */
export class ScheduleStore {
  readonly #loaders = new RequestLoaders();
  /** One "now" per request, so every field of a request agrees on what today is. */
  readonly now: GymTime;

  constructor(
    readonly db: Database,
    clock: Clock,
  ) {
    this.now = gymTime(clock());
  }

  bookingById(id: string): Promise<BookingRow | null> {
    return this.#loaders.get('bookingById', () => byIdLoader<BookingRow>(this.db, 'bookings', BOOKING_COLUMNS)).load(id);
  }

  /** Bookings where the user is client or trainer, newest first. */
  bookingsOf(userId: string, f: BookingFilter): Promise<BookingRow[]> {
    return this.#loaders
      .get(`bookings:${JSON.stringify([f.from, f.to, f.status, f.first])}`, () =>
        this.#perUser((ids) => {
          const params: unknown[] = [ids, f.first];
          const where = ['true'];
          if (f.from) where.push(`b.date >= $${params.push(f.from)}::date`);
          if (f.to) where.push(`b.date <= $${params.push(f.to)}::date`);
          if (f.status) where.push(`b.status = $${params.push(f.status)}`);
          return this.db.query<Owned<'owner_id'>>(perUserSql(where.join(' AND '), 'date DESC, start_time DESC, id'), params);
        }),
      )
      .load(userId);
  }

  /** Pending and confirmed bookings that are not over yet, soonest first. */
  upcomingOf(userId: string, first: number): Promise<BookingRow[]> {
    return this.#loaders
      .get(`upcoming:${first}`, () =>
        this.#perUser((ids) =>
          this.db.query<Owned<'owner_id'>>(
            perUserSql(`b.status IN ('PENDING', 'CONFIRMED') AND b.date >= $3::date AND (b.date > $3::date OR b.end_time > $4::time)`, 'date, start_time, id'),
            [ids, first, this.now.date, this.now.time],
          ),
        ),
      )
      .load(userId);
  }

  /** The gym's today, cancelled sessions left out, by start time (no `first`: a day holds far fewer sessions than a page). */
  todayOf(userId: string): Promise<BookingRow[]> {
    return this.#loaders
      .get('today', () =>
        this.#perUser((ids) =>
          this.db.query<Owned<'owner_id'>>(perUserSql(`b.date = $3::date AND b.status <> 'CANCELLED'`, 'start_time, id'), [ids, LIMITS.page, this.now.date]),
        ),
      )
      .load(userId);
  }

  /** A program's bookings that the viewer is a party of (all of them for admins), soonest first. */
  programBookings(programId: string, viewer: Viewer, first: number): Promise<BookingRow[]> {
    return this.#loaders
      .get(`programBookings:${viewer.id}:${first}`, () =>
        listLoader(
          (ids: readonly string[]) => {
            const admin = isAdmin(viewer);
            const params: unknown[] = admin ? [ids, first] : [ids, first, viewer.id];
            const party = admin ? '' : 'AND (client_id = $3::uuid OR trainer_id = $3::uuid)';
            return this.db.query<Owned<'program_id'>>(
              `SELECT ${BOOKING_COLUMNS} FROM (
                 SELECT ${BOOKING_COLUMNS}, row_number() OVER (PARTITION BY program_id ORDER BY date, start_time, id) AS rn
                 FROM bookings WHERE program_id = ANY($1::uuid[]) ${party}
               ) numbered
               WHERE rn <= $2
               ORDER BY program_id, rn`,
              params,
            );
          },
          (r) => r.program_id,
        ),
      )
      .load(programId);
  }

  #perUser(fetch: (ids: readonly string[]) => Promise<Owned<'owner_id'>[]>) {
    return listLoader(fetch, (r) => r.owner_id);
  }
}
