import { randomUUID } from 'node:crypto';
import { createEnvelope, type AnyEventEnvelope, type EventData } from '@fitsync/events';
import { createLogger, type Database } from '@fitsync/service-kit';
import { handleEvent, openTestDatabase, storageBackends } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkoutLogRow } from '../store.js';
import { progressHandlers } from '../events/index.js';
import { onBookingCompleted } from '../events/booking-completed.js';
import { onProgramCompleted } from '../events/program-completed.js';
import { progressSubgraph } from '../server.js';

const bookingCompleted = (over: Partial<EventData<'booking.completed'>> = {}) =>
  createEnvelope(
    'booking.completed',
    {
      booking_id: randomUUID(),
      client_id: randomUUID(),
      trainer_id: randomUUID(),
      program_id: randomUUID(),
      workout_date: '2026-11-24',
      start_time: '14:00:00',
      end_time: '15:00:00',
      duration_minutes: 60,
      trainer_notes: 'Good depth on the squats',
      ...over,
    },
    { source: 'schedule', correlationId: randomUUID() },
  );

const programCompleted = (over: Partial<EventData<'program.completed'>> = {}) =>
  createEnvelope(
    'program.completed',
    {
      program_id: randomUUID(),
      client_id: randomUUID(),
      trainer_id: randomUUID(),
      name: 'Strength Foundations',
      completion_date: '2026-11-24',
      adherence_rate: 0.87,
      ...over,
    },
    { source: 'training', correlationId: randomUUID() },
  );

describe.each(storageBackends())('progress event handlers on %s', (backend) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('progress', progressSubgraph.migrationsDir, backend));
  });
  afterAll(() => dispose?.());

  const logsOf = (bookingId: string) => db.query<WorkoutLogRow>('SELECT * FROM workout_logs WHERE booking_id = $1', [bookingId]);
  const achievementsOf = (programId: string) => db.query<Record<string, unknown>>('SELECT * FROM achievements WHERE program_id = $1', [programId]);
  const outbox = async () => (await db.query<{ envelope: AnyEventEnvelope }>('SELECT envelope FROM event_outbox ORDER BY seq')).map((r) => r.envelope);

  it('consumes booking.completed and program.completed', () => {
    expect(Object.keys(progressSubgraph.consumes ?? {}).sort()).toEqual(['booking.completed', 'program.completed']);
    expect(progressSubgraph.consumes).toBe(progressHandlers);
  });

  it('booking.completed creates a workout log stub with the booking, program, trainer, date and duration', async () => {
    const event = bookingCompleted();
    const live = await handleEvent(db, 'progress', onBookingCompleted, event);
    const [log, ...more] = await logsOf(event.data.booking_id);
    expect(more).toEqual([]);
    expect(log).toMatchObject({
      client_id: event.data.client_id,
      trainer_id: event.data.trainer_id,
      booking_id: event.data.booking_id,
      program_id: event.data.program_id,
      workout_date: '2026-11-24',
      duration_minutes: 60,
      status: 'STUB',
      exercises: [],
      perceived_effort: null,
      notes: null,
    });
    expect(live).toEqual([]);
  });

  it('booking.completed delivered twice, or a second event for the same booking, leaves one log', async () => {
    const event = bookingCompleted({ program_id: null });
    await handleEvent(db, 'progress', onBookingCompleted, event);
    const [first] = await logsOf(event.data.booking_id);
    await handleEvent(db, 'progress', onBookingCompleted, event);
    await handleEvent(db, 'progress', onBookingCompleted, bookingCompleted({ ...event.data, duration_minutes: 90 }));
    const logs = await logsOf(event.data.booking_id);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toEqual(first);
    expect(logs[0].program_id).toBeNull();
  });

  it('program.completed awards one PROGRAM_COMPLETION achievement and emits achievement.earned with the original correlation id', async () => {
    const event = programCompleted();
    const before = (await outbox()).length;
    const live = await handleEvent(db, 'progress', onProgramCompleted, event);
    const [achievement, ...more] = await achievementsOf(event.data.program_id);
    expect(more).toEqual([]);
    expect(achievement).toMatchObject({
      client_id: event.data.client_id,
      type: 'PROGRAM_COMPLETION',
      title: 'Completed Strength Foundations',
      description: 'You completed your training program "Strength Foundations" with 87% adherence.',
      badge_icon: 'program_complete.png',
      program_id: event.data.program_id,
    });
    const emitted = (await outbox()).slice(before);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      event: 'achievement.earned',
      source: 'progress',
      correlation_id: event.correlation_id,
      data: {
        achievement_id: achievement.id,
        client_id: event.data.client_id,
        program_id: event.data.program_id,
        type: 'PROGRAM_COMPLETION',
        title: 'Completed Strength Foundations',
        description: achievement.description,
        badge_icon: 'program_complete.png',
      },
    });
    expect(emitted[0].event_id).not.toBe(event.event_id);
    expect(live).toEqual([{ topic: 'achievementEarned', payload: { achievement_id: achievement.id, client_id: event.data.client_id } }]);
  });

  it('program.completed handled twice awards nothing new, emits nothing and publishes nothing', async () => {
    const event = programCompleted({ adherence_rate: null });
    await handleEvent(db, 'progress', onProgramCompleted, event);
    const [first] = await achievementsOf(event.data.program_id);
    expect(first.description).toBe('You completed your training program "Strength Foundations".');
    const before = await outbox();
    const live = await handleEvent(db, 'progress', onProgramCompleted, event);
    expect(live).toEqual([]);
    expect(await outbox()).toEqual(before);
    expect(await achievementsOf(event.data.program_id)).toEqual([first]);
  });

  it('a failing handler leaves no row and no follow-up event behind', async () => {
    const event = programCompleted();
    const before = await outbox();
    await expect(
      db.transaction(async (tx) => {
        await onProgramCompleted(event, {
          tx,
          events: { emit: async () => Promise.reject(new Error('outbox unavailable')) },
          live: { publish: async () => undefined },
          log: createLogger('progress', 'silent'),
        });
      }),
    ).rejects.toThrow('outbox unavailable');
    expect(await achievementsOf(event.data.program_id)).toEqual([]);
    expect(await outbox()).toEqual(before);
  });

  it('ids no other service knows about are stored as references, not looked up', async () => {
    // The payloads name entities owned elsewhere; the handlers never call their owners.
    const event = bookingCompleted({ client_id: randomUUID(), trainer_id: randomUUID(), program_id: randomUUID() });
    await expect(handleEvent(db, 'progress', onBookingCompleted, event)).resolves.toEqual([]);
    expect(await logsOf(event.data.booking_id)).toHaveLength(1);
  });
});
