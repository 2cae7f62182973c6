import { createInProcessLiveBus, type LiveBus, type LiveMessage } from '@fitsync/live';
import { createLogger } from '@fitsync/service-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveRouter } from '../live/router.js';

const log = createLogger('gateway', 'silent');
const received = () => {
  const messages: LiveMessage[] = [];
  return { messages, listener: (m: LiveMessage) => void messages.push(m) };
};
const arrived = (list: unknown[], n: number) => vi.waitFor(() => expect(list.length).toBeGreaterThanOrEqual(n), { timeout: 2_000, interval: 5 });

describe('LiveRouter', () => {
  let bus: LiveBus;
  let router: LiveRouter;
  afterEach(async () => {
    await router?.close();
    await bus?.close();
  });

  it('hands a message to the users its route names, each once, per route of one topic', async () => {
    bus = createInProcessLiveBus();
    router = new LiveRouter(bus, log);
    router.serve(['bookings']);
    const both = { topic: 'bookings', recipients: ['client_id', 'trainer_id'] };
    const trainerOnly = { topic: 'bookings', recipients: ['trainer_id'] };
    const u1 = received();
    const u2 = received();
    const u2Trainer = received();
    router.listen(both, 'u1', u1.listener);
    router.listen(both, 'u2', u2.listener);
    router.listen(trainerOnly, 'u2', u2Trainer.listener);

    await bus.publish('bookings', { client_id: 'u1', trainer_id: 'u1' });
    await bus.publish('bookings', { client_id: 'u1', trainer_id: 'u2' });
    // Positive control: u2's first message is the second one, and u1 got the first once.
    await arrived(u2.messages, 1);
    await arrived(u2Trainer.messages, 1);
    await arrived(u1.messages, 2);
    expect(u1.messages.map((m) => m.payload.trainer_id)).toEqual(['u1', 'u2']);
    expect(u2.messages.map((m) => m.payload.trainer_id)).toEqual(['u2']);
    expect(u2Trainer.messages.map((m) => m.payload.trainer_id)).toEqual(['u2']);
  });

  it('follows the topics it is told to serve: new ones are heard, dropped ones let go', async () => {
    bus = createInProcessLiveBus();
    router = new LiveRouter(bus, log);
    router.serve(['old']);
    const old = received();
    router.listen({ topic: 'old', recipients: ['user_id'] }, 'u1', old.listener);
    await bus.publish('old', { user_id: 'u1', n: 1 });
    await arrived(old.messages, 1);

    router.serve(['new']);
    expect(router.topics()).toEqual(['new']);
    expect(() => router.listen({ topic: 'old', recipients: ['user_id'] }, 'u1', old.listener)).toThrow('live topic old is not served');
    const fresh = received();
    router.listen({ topic: 'new', recipients: ['user_id'] }, 'u1', fresh.listener);
    await bus.publish('old', { user_id: 'u1', n: 2 });
    await bus.publish('new', { user_id: 'u1', n: 3 });
    // Positive control: the later message on the new topic arrives; the one on the dropped topic never does.
    await arrived(fresh.messages, 1);
    expect(fresh.messages.map((m) => m.payload.n)).toEqual([3]);
    expect(old.messages.map((m) => m.payload.n)).toEqual([1]);
  });

  it('stops calling a listener once it is removed', async () => {
    bus = createInProcessLiveBus();
    router = new LiveRouter(bus, log);
    router.serve(['t']);
    const gone = received();
    const control = received();
    const stop = router.listen({ topic: 't', recipients: ['to'] }, 'u1', gone.listener);
    router.listen({ topic: 't', recipients: ['to'] }, 'u2', control.listener);
    stop();
    await bus.publish('t', { to: 'u1' });
    await bus.publish('t', { to: 'u2' });
    await arrived(control.messages, 1);
    expect(gone.messages).toEqual([]);
  });
});
