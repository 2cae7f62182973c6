import { badInput } from '@fitsync/service-kit';
import { fullTime, type GymTime } from '@fitsync/service-kit/clock';

/** A slot a booking may take: a real day and times, end after start, not already begun. */
export function checkSlot(slot: { date: string; startTime: string; endTime: string }, now: GymTime) {
  const startTime = fullTime(slot.startTime);
  const endTime = fullTime(slot.endTime);
  if (endTime <= startTime) throw badInput('endTime must be after startTime', 'endTime');
  if (slot.date < now.date || (slot.date === now.date && startTime <= now.time)) {
    throw badInput(`A booking cannot start in the past (the gym's time is ${now.date} ${now.time})`, 'date');
  }
  return { date: slot.date, startTime, endTime };
}
