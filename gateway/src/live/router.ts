import { liveRecipients, type LiveRoute } from '@fitsync/composition';
import type { LiveBus, LiveMessage } from '@fitsync/live';
import type { Logger } from '@fitsync/service-kit';

export type LiveListener = (message: LiveMessage) => void;

/** The listeners of one route (a topic and its recipient fields), by user. */
interface RouteListeners {
  recipients: readonly string[];
  byUser: Map<string, Set<LiveListener>>;
}

interface TopicState {
  iterator: AsyncIterator<unknown>;
  /** By the route's recipient fields: two fields fed by one topic may name different users. */
  routes: Map<string, RouteListeners>;
}

const routeKey = (recipients: readonly string[]) => JSON.stringify(recipients);

/**
 * Hands live messages to the subscriptions of the users they are for. The gateway
 * subscribes to each topic the supergraph declares once, whatever the number of clients,
 * so a message costs one Redis delivery per gateway and a map lookup per recipient, and
 * each subscription sees each message exactly once. Who a message is for comes from the
 * `@liveTopic(recipients:)` of the field subscribed to.
 */
export class LiveRouter {
  readonly #topics = new Map<string, TopicState>();
  #closed = false;

  constructor(
    private readonly bus: LiveBus,
    private readonly log: Logger,
  ) {}

  /**
   * Consumes exactly `topics` from now on (the topics of the supergraph being served):
   * new ones are subscribed to, those no longer declared are let go.
   */
  serve(topics: Iterable<string>) {
    if (this.#closed) return;
    const wanted = new Set(topics);
    for (const [topic, state] of this.#topics) {
      if (wanted.has(topic)) continue;
      this.#topics.delete(topic);
      void state.iterator.return?.();
    }
    for (const topic of wanted) {
      if (this.#topics.has(topic)) continue;
      const state: TopicState = { iterator: this.bus.subscribe(topic), routes: new Map() };
      this.#topics.set(topic, state);
      void this.#consume(topic, state);
    }
  }

  /** The topics consumed now. */
  topics(): string[] {
    return [...this.#topics.keys()];
  }

  async #consume(topic: string, state: TopicState) {
    try {
      for await (const payload of { [Symbol.asyncIterator]: () => state.iterator }) {
        if (this.#closed || this.#topics.get(topic) !== state) break;
        this.#dispatch(state, { topic, payload: payload as LiveMessage['payload'] });
      }
    } catch (err) {
      if (!this.#closed) this.log.error({ err, topic }, 'live topic subscription failed');
    }
  }

  #dispatch(state: TopicState, message: LiveMessage) {
    for (const route of state.routes.values()) {
      const recipients = liveRecipients(route.recipients, message.payload);
      if (recipients.length === 0) {
        this.log.warn({ topic: message.topic, recipients: route.recipients }, 'live message naming no recipient dropped');
        continue;
      }
      for (const userId of recipients) {
        for (const listener of route.byUser.get(userId) ?? []) listener(message);
      }
    }
  }

  /**
   * Calls `listener` with each message of `route.topic` that names `userId` in one of the
   * route's recipient fields, until the returned function is called. The topic must be
   * one being served (see `serve`).
   */
  listen(route: Pick<LiveRoute, 'topic' | 'recipients'>, userId: string, listener: LiveListener): () => void {
    const state = this.#topics.get(route.topic);
    if (!state) throw new Error(`live topic ${route.topic} is not served`);
    const key = routeKey(route.recipients);
    let routeListeners = state.routes.get(key);
    if (!routeListeners) state.routes.set(key, (routeListeners = { recipients: route.recipients, byUser: new Map() }));
    const byUser = routeListeners.byUser;
    let set = byUser.get(userId);
    if (!set) byUser.set(userId, (set = new Set()));
    set.add(listener);
    const listeners = routeListeners;
    return () => {
      set.delete(listener);
      if (set.size === 0 && byUser.get(userId) === set) byUser.delete(userId);
      if (byUser.size === 0 && state.routes.get(key) === listeners) state.routes.delete(key);
    };
  }

  async close() {
    this.#closed = true;
    const states = [...this.#topics.values()];
    this.#topics.clear();
    await Promise.all(states.map((s) => s.iterator.return?.() ?? Promise.resolve()));
  }
}
