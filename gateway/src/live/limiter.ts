/**
 * At most `max` tasks at once, the others waiting in arrival order. Live events are resolved
 * through it: each one's primary fetch starts its subgraph deadline when it is sent, so
 * thousands sent at once (a burst of messages for thousands of subscribers) would queue in
 * the subgraph, all pass the deadline together and fail together (and open the breaker),
 * where sent a few at a time they are delivered late but delivered.
 */
export class Limiter {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #head = 0;

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new Error('a limiter needs a limit of at least 1');
  }

  /** Tasks waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.max) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      this.#next();
    }
  }

  /** Hands the finished task's turn to the longest waiting one (the count stays), or frees it. */
  #next() {
    if (this.#head < this.#waiting.length) {
      const resolve = this.#waiting[this.#head];
      this.#waiting[this.#head++] = undefined as never;
      // Compact now and then, so a long burst does not keep a long array alive.
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      resolve();
    } else {
      this.#running -= 1;
    }
  }
}
