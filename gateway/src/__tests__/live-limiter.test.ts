import { describe, expect, it } from 'vitest';
import { Limiter } from '../live/limiter.js';

/** A task that runs until released, recording when it started. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

describe('the live events limiter', () => {
  it('runs at most `max` tasks at once, the others in arrival order, and frees the turn of a task that failed', async () => {
    const limiter = new Limiter(2);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 5 }, gate);
    const results = gates.map((g, i) =>
      limiter
        .run(async () => {
          started.push(i);
          most = Math.max(most, ++running);
          await g.done;
          running -= 1;
          if (i === 1) throw new Error('task 1 failed');
          return i;
        })
        .catch((err: Error) => err.message),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limiter.waiting).toBe(3);
    gates[1].release();
    await results[1];
    await new Promise((r) => setImmediate(r));
    // The failed task's turn went to the next in line.
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.release();
    expect(await Promise.all(results)).toEqual([0, 'task 1 failed', 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(limiter.waiting).toBe(0);
    // Free again: a new task starts at once.
    expect(await limiter.run(async () => 'now')).toBe('now');
  });
});
