/**
 * The one clock every FitSync service reads, and the calendar helpers that go with it.
 *
 * Services never call `new Date()` or `Date.now()` for business time ("today", "now",
 * "upcoming", token lifetimes, event timestamps): they read the `Clock` they were started
 * with. Production passes `systemClock`; tests pin one with `pinnedClock` and advance it.
 *
 * The gym's time zone is the process's (`TZ`): bookings store local dates and times, so
 * "today" is the gym's calendar day, never the database server's or UTC's.
 */

/** What time it is. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** A clock that stands still until a test moves it. */
export interface PinnedClock extends Clock {
  /** Moves the clock forward (or back, with a negative value) by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the clock to an instant (a `Date`, or an ISO string read in the process's time zone when it has no offset). */
  set(at: Date | string): void;
}

/**
 * A clock pinned at `at`. A string without an offset (`'2027-01-31T23:59:30'`) is the gym's
 * local time, as `new Date(string)` reads it.
 */
export function pinnedClock(at: Date | string): PinnedClock {
  let ms = toMs(at);
  const clock = (() => new Date(ms)) as PinnedClock;
  clock.advance = (delta) => {
    ms += delta;
  };
  clock.set = (next) => {
    ms = toMs(next);
  };
  return clock;
}

function toMs(at: Date | string): number {
  const ms = typeof at === 'string' ? new Date(at).getTime() : at.getTime();
  if (Number.isNaN(ms)) throw new TypeError(`not an instant: ${String(at)}`);
  return ms;
}

export interface GymTime {
  /** The gym's calendar day, 'YYYY-MM-DD'. */
  date: string;
  /** The gym's wall-clock time, 'HH:MM:SS'. */
  time: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The gym's local calendar day of an instant, 'YYYY-MM-DD'. */
export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The gym's local day and time of an instant. */
export function gymTime(now: Date): GymTime {
  return { date: localDate(now), time: `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}` };
}

/**
 * The instant a gym-local day and wall-clock time stand for ('YYYY-MM-DD', 'HH:MM[:SS]'):
 * the inverse of `gymTime`, in the gym's time zone.
 */
export function gymInstant(date: string, time: string): Date {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm, ss = 0] = time.split(':').map(Number);
  return new Date(y, m - 1, d, hh, mm, ss);
}

/** A wall-clock time 'HH:MM' or 'HH:MM:SS[.sss]' as 'HH:MM:SS', the form bookings store and `gymTime` gives. */
export const fullTime = (time: string) => (time.length === 5 ? `${time}:00` : time.slice(0, 8));

/** A calendar day `days` after `date` (both 'YYYY-MM-DD'; negative goes back). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`, both 'YYYY-MM-DD'. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Seconds since midnight of a wall-clock time, 'HH:MM' or 'HH:MM:SS'. */
export function timeToSeconds(time: string): number {
  const [h, m, s = '0'] = time.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Whole minutes from one wall-clock time to another of the same day. */
export const minutesBetween = (start: string, end: string) => Math.round((timeToSeconds(end) - timeToSeconds(start)) / 60);

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in a duration written `90s`, `30m`, `12h` or `7d` (a bare number is seconds). */
export function durationSeconds(text: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) throw new TypeError(`not a duration (e.g. 90s, 30m, 12h, 7d): ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
}
