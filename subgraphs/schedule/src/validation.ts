import { id, optionalText, wholeNumber } from '@fitsync/service-kit';
import { fullTime, type GymTime } from '@fitsync/service-kit/clock';
import { z } from 'zod';
import { BOOKING_TYPES } from './store.js';

/** A day and times as bookings store them ('YYYY-MM-DD', 'HH:MM:SS'). */
const slotFields = {
  date: z.iso.date(),
  startTime: z.string().transform(fullTime),
  endTime: z.string().transform(fullTime),
};
type Slot = { date: string; startTime: string; endTime: string };

/** A slot a booking may take: end after start, not already begun on the gym's clock. */
const checkSlot = (now: GymTime) => (slot: Slot, ctx: z.RefinementCtx) => {
  if (slot.endTime <= slot.startTime) ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must be after startTime' });
  else if (slot.date < now.date || (slot.date === now.date && slot.startTime <= now.time)) {
    ctx.addIssue({ code: 'custom', path: ['date'], message: `a booking cannot start in the past (the gym's time is ${now.date} ${now.time})` });
  }
};

export const createBookingInput = (now: GymTime) =>
  z
    .object({ clientId: id(), trainerId: id(), gymId: id(), ...slotFields, type: z.enum(BOOKING_TYPES).nullish(), notes: optionalText() })
    .superRefine((input, ctx) => {
      if (input.clientId === input.trainerId) ctx.addIssue({ code: 'custom', path: ['trainerId'], message: 'clientId and trainerId must be different users' });
      else checkSlot(now)(input, ctx);
    });

export const rescheduleBookingInput = (now: GymTime) => z.object(slotFields).superRefine(checkSlot(now));

export const cancelBookingInput = z.object({ reason: optionalText() });

export const completeBookingInput = z.object({ trainerNotes: optionalText(), durationMinutes: wholeNumber(1, 24 * 60).nullish() });
