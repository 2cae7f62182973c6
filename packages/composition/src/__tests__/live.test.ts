import { describe, expect, it } from 'vitest';
import { declaredCoordinates, formatLiveCheck } from '../live.js';
import { undeclaredSubscriptionFields } from '../live-topics.js';

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

  it('takes the Subscription fields without @liveTopic for the ones the subgraph must serve itself, under a renamed directive too', () => {
    const sdl = `
      extend schema @link(url: "https://fitsync.dev/live/v0.1", import: [{ name: "@liveTopic", as: "@topic" }])
      schema { query: Query subscription: Live }
      type Query { a: Int }
      type Live { declared: Int! @topic(name: "t", recipients: ["user_id"]) served: Int! }
      extend type Live { alsoServed: String }
    `;
    expect(undeclaredSubscriptionFields(sdl)).toEqual(['Live.served', 'Live.alsoServed']);
    expect(undeclaredSubscriptionFields('type Query { a: Int }')).toEqual([]);
  });

  it('reports the subscription try after the SDL comparison: what was tried, where, and for which fields', () => {
    const base = { status: 'served' as const, url: 'http://announcements:4000/graphql', missing: [], added: [] };
    const tried = 'a WebSocket with subprotocol graphql-transport-ws, connection_init with the service credential, expecting connection_ack';
    const fields = ['Subscription.announcement'];
    const refused = formatLiveCheck('announcements', {
      ...base,
      subscriptions: {
        fields,
        transport: 'ws',
        url: 'ws://announcements:4000/graphql',
        tried,
        served: false,
        error: 'it closed the connection (4403 Forbidden) before connection_ack',
      },
    });
    expect(refused).toBe(
      '✔ announcements at http://announcements:4000/graphql already serves every field of the candidate schema\n' +
        '✖ announcements does not serve subscriptions over graphql-ws at ws://announcements:4000/graphql: it closed the connection (4403 Forbidden) before connection_ack\n' +
        `  tried: ${tried}\n` +
        '  Subscription.announcement has no @liveTopic, so the gateway would subscribe there, and every subscribe would fail',
    );
    const served = formatLiveCheck('announcements', { ...base, subscriptions: { fields, transport: 'sse', url: base.url, tried, served: true } });
    expect(served.split('\n')[1]).toBe(
      '✔ announcements serves subscriptions over SSE (graphql-sse) at http://announcements:4000/graphql, for Subscription.announcement',
    );
  });
});
