import { LIVE_TOPICS, liveRecipients, type LiveBus, type LiveMessage, type LiveTopic } from '@fitsync/live';
import type { Logger } from '@fitsync/service-kit';

export type LiveListener = (message: LiveMessage) => void;

/**
 * Hands live messages to the subscriptions of the users they are for. The gateway
 * subscribes to each topic on the bus once, whatever the number of clients, so a message
 * costs one Redis delivery per gateway and a map lookup per recipient, and each
 * subscription sees each message exactly once.
 */
export class LiveRouter {
  readonly #listeners = new Map<LiveTopic, Map<string, Set<LiveListener>>>();
  readonly #iterators: AsyncIterator<unknown>[] = [];
  #closed = false;

  constructor(
    private readonly bus: LiveBus,
    private readonly log: Logger,
  ) {
    for (const topic of LIVE_TOPICS) {
      this.#listeners.set(topic, new Map());
      void this.#consume(topic);
    }
  }

  async #consume(topic: LiveTopic) {
    const iterator = this.bus.subscribe(topic);
    this.#iterators.push(iterator);
    try {
      for await (const payload of { [Symbol.asyncIterator]: () => iterator }) {
        if (this.#closed) break;
        this.#dispatch({ topic, payload });
      }
    } catch (err) {
      if (!this.#closed) this.log.error({ err, topic }, 'live topic subscription failed');
    }
  }

  #dispatch(message: LiveMessage) {
    const byUser = this.#listeners.get(message.topic)!;
    let recipients: string[];
    try {
      recipients = liveRecipients(message.topic, message.payload);
    } catch {
      this.log.warn({ topic: message.topic }, 'live message without recipients dropped');
      return;
    }
    for (const userId of recipients) {
      for (const listener of byUser.get(userId) ?? []) listener(message);
    }
  }

  /** Calls `listener` with each message of `topic` for `userId` until the returned function is called. */
  listen(topic: LiveTopic, userId: string, listener: LiveListener): () => void {
    const byUser = this.#listeners.get(topic)!;
    let set = byUser.get(userId);
    if (!set) byUser.set(userId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && byUser.get(userId) === set) byUser.delete(userId);
    };
  }

  async close() {
    this.#closed = true;
    await Promise.all(this.#iterators.map((it) => it.return?.() ?? Promise.resolve()));
  }
}
