// What the end-to-end workflow tests share: where they run, and when a booking fits.
import type { GymBooking } from '@fitsync/demo-data';
import { REQUIRE_SERVICES, storageBackends } from '@fitsync/service-kit/testing';

export interface BusSetup {
  backend: 'pglite' | 'postgres';
  transport: 'memory' | 'redis';
}

/** PGlite with the in-process bus always; Postgres with Redis too when they are there (or required). */
export function busSetups(): BusSetup[] {
  const setups: BusSetup[] = [{ backend: 'pglite', transport: 'memory' }];
  if (storageBackends().includes('postgres') && (process.env.REDIS_URL || REQUIRE_SERVICES)) setups.push({ backend: 'postgres', transport: 'redis' });
  return setups;
}

/** An hour on `date` when none of `people` (user ids) has a session among `bookings`. */
export function freeSlot(bookings: readonly GymBooking[], date: string, people: readonly string[]): { startTime: string; endTime: string } {
  const busy = bookings.filter((b) => b.date === date && (people.includes(b.trainerId) || people.includes(b.clientId)) && b.status !== 'CANCELLED');
  for (let h = 6; h < 22; h++) {
    const [start, end] = [`${String(h).padStart(2, '0')}:00:00`, `${String(h + 1).padStart(2, '0')}:00:00`];
    if (busy.every((b) => b.endTime <= start || b.startTime >= end)) return { startTime: start.slice(0, 5), endTime: end.slice(0, 5) };
  }
  throw new Error(`no free hour on ${date}`);
}
