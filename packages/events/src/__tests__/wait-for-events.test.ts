// waitForEvents reads the services' pending() one after another, never at one instant. These
// runtimes stand in for two services (the state of one event between them, as a relay and a
// consumer move it) to put a move exactly between the two reads, which a real platform does
// only now and then (a CI run on Postgres and Redis caught it: a test read the notifications
// before the event that makes one had reached the notifications service).
import { describe, expect, it } from 'vitest';
import { waitForEvents, type EventRuntime } from '../runtime.js';

type Where = 'source outbox' | 'target stream' | 'handled';
type Fake = Pick<EventRuntime, 'idle' | 'pending' | 'activity'>;

/**
 * One event written to the source's outbox by a handler that committed after the source's
 * idle() returned. The target (read first) has nothing yet; while the source is read, its
 * relay publishes the event into the target's stream and commits, so the source reads 0 too.
 * The target handles what is in its stream whenever it is asked to be idle.
 */
function race(publishWhileRead: boolean) {
  let where: Where = 'source outbox';
  let relayRuns = 0;
  let handled = 0;
  const target: Fake = {
    async idle() {
      if (where === 'target stream') {
        handled++;
        where = 'handled';
      }
    },
    pending: async () => (where === 'target stream' ? 1 : 0),
    activity: () => ({ busy: 0, started: handled }),
  };
  const source: Fake = {
    idle: async () => undefined,
    async pending() {
      if (where !== 'source outbox') return 0;
      if (!publishWhileRead) return 1;
      relayRuns++;
      where = 'target stream';
      return 0;
    },
    activity: () => ({ busy: 0, started: relayRuns }),
  };
  return { runtimes: [target, source], where: () => where };
}

describe('waitForEvents', () => {
  it('does not return while an event moves from one service to another between the reads of their pending()', async () => {
    const r = race(true);
    await waitForEvents(r.runtimes, 2_000);
    expect(r.where()).toBe('handled');
  });

  it('sees an event left in an outbox (the control: no move during the reads)', async () => {
    const r = race(false);
    // The source never publishes: waitForEvents must time out rather than return.
    await expect(waitForEvents(r.runtimes, 50)).rejects.toThrow(/events still flowing/);
    expect(r.where()).toBe('source outbox');
  });

  it('does not return while a move is under way in one of them', async () => {
    let busy = 1;
    const runtime: Fake = { idle: async () => undefined, pending: async () => 0, activity: () => ({ busy, started: 1 }) };
    const done = waitForEvents([runtime], 2_000).then(() => busy);
    // Still under way after several rounds of the loop (each waits for a timer).
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
    busy = 0;
    expect(await done).toBe(0);
  });
});
