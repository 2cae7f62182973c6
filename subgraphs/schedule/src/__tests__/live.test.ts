import { randomUUID } from 'node:crypto';
import type { EventEnvelope, HandlerContext } from '@fitsync/events';
import { createInProcessLiveBus } from '@fitsync/live';
import { createLogger } from '@fitsync/service-kit';
import { describe, expect, it } from 'vitest';
import { bookingLiveHandlers } from '../events/booking-changes.js';

describe('schedule tells live subscribers about its own booking events', () => {
  it('publishes bookingChanged with the parties and the commit time of each booking event', async () => {
    const bus = createInProcessLiveBus();
    const received = bus.subscribe('bookingChanged');
    const next = received.next();
    const ids = { booking_id: randomUUID(), client_id: randomUUID(), trainer_id: randomUUID() };
    const event: EventEnvelope<'booking.cancelled'> = {
      event_id: randomUUID(),
      event: 'booking.cancelled',
      timestamp: '2026-11-25T10:00:00.000Z',
      correlation_id: 'c-1',
      source: 'schedule',
      data: { ...ids, booking_date: '2026-11-26', start_time: '09:00', cancellation_reason: null, cancelled_by: ids.client_id },
    };
    const ctx = { live: bus, log: createLogger('schedule', 'silent') } as unknown as HandlerContext;
    await bookingLiveHandlers['booking.cancelled'](event, ctx);
    expect((await next).value).toEqual({ event_id: event.event_id, change: 'CANCELLED', ...ids, at: event.timestamp });
    await received.return?.();
  });
});
