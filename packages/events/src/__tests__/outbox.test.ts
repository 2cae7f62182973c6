import { randomUUID } from 'node:crypto';
import { openTestDatabase, storageBackends } from '@fitsync/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { InvalidEventError, createEventWriter, parseEnvelope } from '../index.js';

const MIGRATIONS = new URL('../../migrations/', import.meta.url);
const ids = { booking_id: randomUUID(), client_id: randomUUID(), trainer_id: randomUUID() };
const reminder = { ...ids, booking_date: '2026-12-01', start_time: '09:00', hours_until: 24 };
const AT = '2026-11-30T09:00:00.000Z';

describe('event envelope', () => {
  it('round-trips an envelope written as JSON', () => {
    const raw = JSON.stringify({ event_id: randomUUID(), event: 'booking.reminder', timestamp: AT, correlation_id: 'c-1', source: 'schedule', data: reminder });
    const env = parseEnvelope(raw);
    expect(env.event).toBe('booking.reminder');
    expect(env.data).toEqual(reminder);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an unknown channel', { event_id: randomUUID(), event: 'booking.exploded', timestamp: AT, correlation_id: 'c', source: 's', data: {} }, /unknown channel/],
    [
      'a bad payload',
      { event_id: randomUUID(), event: 'booking.reminder', timestamp: AT, correlation_id: 'c', source: 's', data: { ...reminder, booking_id: 'nope' } },
      /data|booking_id/,
    ],
    ['no event id', { event: 'booking.reminder', timestamp: AT, correlation_id: 'c', source: 's', data: reminder }, /event_id/],
  ])('refuses %s', (_, raw, message) => {
    expect(() => parseEnvelope(raw)).toThrow(InvalidEventError);
    expect(() => parseEnvelope(raw)).toThrow(message);
  });
});

describe.each(storageBackends())('outbox on %s', (backend) => {
  it('writes the event only when the transaction commits', async () => {
    const { db, dispose } = await openTestDatabase('events', MIGRATIONS, backend);
    try {
      const events = createEventWriter({ source: 'schedule', correlationId: 'corr-42' });
      const written = await db.transaction((tx) => events.emit(tx, 'booking.reminder', reminder));
      await expect(
        db.transaction(async (tx) => {
          await events.emit(tx, 'booking.reminder', reminder);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      const rows = await db.query<{ event_id: string; channel: string; envelope: unknown; published_at: Date | null }>(
        'SELECT event_id, channel, envelope, published_at FROM event_outbox',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ event_id: written.event_id, channel: 'booking.reminder', published_at: null });
      expect(parseEnvelope(rows[0].envelope)).toEqual({ ...written, source: 'schedule', correlation_id: 'corr-42' });
      await expect(db.transaction((tx) => events.emit(tx, 'booking.reminder', { ...reminder, hours_until: 'soon' as unknown as number }))).rejects.toThrow(
        InvalidEventError,
      );
    } finally {
      await dispose();
    }
  });
});
