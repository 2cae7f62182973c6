import { describe, expect, it } from 'vitest';
import { declaredCoordinates, formatLiveCheck } from '../live.js';

describe('what a publish asks the running subgraph to serve', () => {
  it('takes every field, argument, input field and enum value, from definitions and extensions alike', () => {
    const sdl = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Booking @key(fields: "id") { id: ID! room(floor: Int): String }
      extend type Query { bookings(first: Int = 20, status: BookingStatus): [Booking!]! }
      interface Node { id: ID! }
      input CreateBookingInput { room: String }
      enum BookingStatus { CONFIRMED CANCELLED }
      extend enum BookingStatus { NO_SHOW }
      scalar Date
    `;
    expect([...declaredCoordinates(sdl)].sort()).toEqual([
      'Booking.id',
      'Booking.room',
      'Booking.room(floor:)',
      'BookingStatus.CANCELLED',
      'BookingStatus.CONFIRMED',
      'BookingStatus.NO_SHOW',
      'CreateBookingInput.room',
      'Node.id',
      'Query.bookings',
      'Query.bookings(first:)',
      'Query.bookings(status:)',
    ]);
  });

  it('names what the candidate adds apart from what was published before and is still not served', () => {
    const text = formatLiveCheck('schedule', {
      status: 'missing',
      url: 'http://schedule:8003/graphql',
      missing: ['Booking.equipment', 'Booking.room'],
      added: ['Booking.room'],
    });
    expect(text).toBe(
      '✖ schedule at http://schedule:8003/graphql does not serve 2 coordinate(s) of the candidate schema yet:\n' +
        '  new in this schema: Booking.room\n' +
        '  published before, still not served: Booking.equipment',
    );
  });
});
