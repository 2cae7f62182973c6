import type { EventHandler, EventHandlers } from '@fitsync/events';
import type { BookingEventModel } from '../store.js';

type BookingChange = BookingEventModel['change'];

const publishChange =
  (change: BookingChange): EventHandler<'booking.created' | 'booking.cancelled' | 'booking.rescheduled' | 'booking.completed'> =>
  async (event, ctx) => {
    const { booking_id, client_id, trainer_id } = event.data;
    await ctx.live.publish('bookingChanged', { event_id: event.event_id, change, booking_id, client_id, trainer_id, at: event.timestamp });
  };

/**
 * Schedule consumes its own booking events to tell live subscribers about them. Going
 * through the outbox instead of publishing from the mutation means a change is announced
 * only once it has committed, exactly once per event (the inbox drops redeliveries), and
 * the mutation resolvers stay about bookings.
 */
export const bookingLiveHandlers = {
  'booking.created': publishChange('CREATED'),
  'booking.cancelled': publishChange('CANCELLED'),
  'booking.rescheduled': publishChange('RESCHEDULED'),
  'booking.completed': publishChange('COMPLETED'),
} satisfies EventHandlers;
