import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { LiveEvent, PreparedSubscription, SubscriptionExecutor } from './executor.js';
import type { Limiter } from './limiter.js';

/** Where a stream's events come from: the broker router, or a shared upstream subscription. */
export interface Feeds {
  /** What identifies the source of `subscription`'s events for this caller (a reload that keeps it keeps listening). */
  key(subscription: PreparedSubscription, context: GatewayContext): string;
  /** Calls `push` with each event until the returned function is called; `end` once if the source ends. */
  listen(
    subscription: PreparedSubscription,
    context: GatewayContext,
    push: (event: LiveEvent) => void,
    end: (errors: GraphQLFormattedError[]) => void,
  ): () => void;
}

export interface StreamOptions {
  // executor and subscription change when the gateway reloads its supergraph.
  feeds: Feeds;
  executor: SubscriptionExecutor;
  subscription: PreparedSubscription;
  context: GatewayContext;
  /** Shared by every stream of the gateway: how many events are resolved at once. */
  resolving: Limiter;
  /** Messages waiting to be resolved and sent before the client counts as not keeping up. */
  maxQueued: number;
  /** Bytes written but not yet taken by the client; past `maxBuffered` it is cut off. */
  backlog(): number;
  maxBuffered: number;
  /** Closes the client's connection (the stream has already ended). */
  cutOff(reason: string): void;
  /**
   * Ends the stream's session, and so the stream, when the client's token has expired: run
   * before each message is resolved, so none goes out after expiry whenever the sweep last ran.
   */
  checkExpiry(): void;
}

/**
 * One client subscription: the messages for its user, resolved one after the other (so
 * events arrive in publish order) while the client reads them. A client that falls
 * behind, by queued messages or by unread bytes on its connection, is cut off rather
 * than buffered without bound; the other subscriptions are not affected.
 */
export class LiveStream implements AsyncIterableIterator<ExecutionResult> {
  readonly #opts: StreamOptions;
  /** Events to resolve; `end` is the source's last word, delivered after the events before it. */
  readonly #queue: (LiveEvent | { kind: 'end'; errors: GraphQLFormattedError[] })[] = [];
  /** Sent once, before `done`, when the stream ends for a reason the client must hear. */
  #farewell: ExecutionResult | undefined;
  #unlisten: () => void;
  #wake: (() => void) | undefined;
  #done = false;
  #finished!: () => void;
  /** Settles once the stream has ended and its consumer has let go of it. */
  readonly finished = new Promise<void>((resolve) => (this.#finished = resolve));

  constructor(opts: StreamOptions) {
    this.#opts = opts;
    this.#unlisten = this.#listen();
  }

  #listen() {
    const { feeds, subscription, context } = this.#opts;
    this.#feedKey = feeds.key(subscription, context);
    return feeds.listen(
      subscription,
      context,
      (event) => this.#push(event),
      (errors) => {
        if (this.#done) return;
        this.#queue.push({ kind: 'end', errors });
        this.#wake?.();
      },
    );
  }

  #feedKey = '';

  #push(message: LiveEvent) {
    if (this.#done) return;
    if (this.#queue.length >= this.#opts.maxQueued) {
      this.#overflow(`more than ${this.#opts.maxQueued} events waiting`);
      return;
    }
    this.#queue.push(message);
    this.#wake?.();
  }

  #overflow(why: string) {
    this.end();
    this.#opts.cutOff(`Client is not keeping up: ${why}`);
  }

  /** The subscription's topic: the field it subscribes to. */
  get subscription(): PreparedSubscription {
    return this.#opts.subscription;
  }

  /** Goes on under a new supergraph: later messages are resolved with the new plan. */
  replan(executor: SubscriptionExecutor, subscription: PreparedSubscription) {
    this.#opts.executor = executor;
    this.#opts.subscription = subscription;
    // The field may now be fed by another topic, name its recipients otherwise, or be served
    // by its subgraph with another fetch (or at another address): the new source first, so
    // an upstream subscription shared with others is not closed and opened again.
    if (!this.#done && this.#opts.feeds.key(subscription, this.#opts.context) !== this.#feedKey) {
      const before = this.#unlisten;
      this.#unlisten = this.#listen();
      before();
    }
  }

  /** Ends the stream after sending `result` (e.g. why it cannot go on), then `done`. */
  endWith(result: ExecutionResult) {
    if (this.#done) return;
    this.#farewell = result;
    this.end();
  }

  /** Ends the stream: the consumer sees `done` after the event in flight (graphql-ws sends `complete`). */
  end() {
    if (this.#done) return;
    this.#done = true;
    this.#queue.length = 0;
    this.#unlisten();
    this.#wake?.();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.#done && this.#queue.length === 0) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    if (!this.#done) this.#opts.checkExpiry();
    if (this.#done) {
      const farewell = this.#farewell;
      this.#farewell = undefined;
      if (farewell) return { done: false, value: farewell };
      this.#finished();
      return { done: true, value: undefined };
    }
    if (this.#opts.backlog() > this.#opts.maxBuffered) {
      this.#overflow(`more than ${this.#opts.maxBuffered} bytes unread`);
      this.#finished();
      return { done: true, value: undefined };
    }
    const event = this.#queue.shift()!;
    if (event.kind === 'end') {
      this.endWith({ errors: event.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions })) });
      return this.next();
    }
    const { executor, subscription, context } = this.#opts;
    try {
      const value = await this.#opts.resolving.run(async () => {
        // Checked again once its turn came: nothing goes out after the token expired, however long it waited.
        this.#opts.checkExpiry();
        return this.#done ? undefined : executor.run(subscription, context, event);
      });
      if (value === undefined) return this.next();
      return { done: false, value };
    } catch (err) {
      context.log.error({ err, ...(event.kind === 'broker' ? { topic: event.message.topic } : { feed: 'upstream' }) }, 'live event could not be resolved');
      return { done: false, value: { errors: [new GraphQLError('This event could not be resolved', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] } };
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    this.#finished();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
