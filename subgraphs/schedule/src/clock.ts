/** What time it is; injected so tests can pin "today" and "now". */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export interface GymTime {
  /** The gym's calendar day, 'YYYY-MM-DD'. */
  date: string;
  /** The gym's wall-clock time, 'HH:MM:SS'. */
  time: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The gym's local day and time for an instant. The gym's time zone is the
 * process's (`TZ`): bookings store local dates and times, so "today" must be
 * the gym's day, never the database server's or UTC's.
 */
export function gymTime(now: Date): GymTime {
  return {
    date: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`,
    time: `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`,
  };
}
