import type { LiveMessage } from '@fitsync/live';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { PreparedSubscription, SubscriptionExecutor } from './executor.js';
import type { Limiter } from './limiter.js';
import type { LiveRouter } from './router.js';

export interface StreamOptions {
  // executor and subscription change when the gateway reloads its supergraph.
  router: LiveRouter;
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
  readonly #queue: LiveMessage[] = [];
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
    return this.#opts.router.listen(this.#opts.subscription.route, this.#opts.context.viewer!.id, (message) => this.#push(message));
  }

  #push(message: LiveMessage) {
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
    const before = this.#opts.subscription.route;
    this.#opts.executor = executor;
    this.#opts.subscription = subscription;
    // The field may now be fed by another topic, or name its recipients otherwise.
    const { route } = subscription;
    if (!this.#done && (route.topic !== before.topic || JSON.stringify(route.recipients) !== JSON.stringify(before.recipients))) {
      this.#unlisten();
      this.#unlisten = this.#listen();
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
    const message = this.#queue.shift()!;
    const { executor, subscription, context } = this.#opts;
    try {
      const value = await this.#opts.resolving.run(async () => {
        // Checked again once its turn came: nothing goes out after the token expired, however long it waited.
        this.#opts.checkExpiry();
        return this.#done ? undefined : executor.run(subscription, context, message);
      });
      if (value === undefined) return this.next();
      return { done: false, value };
    } catch (err) {
      context.log.error({ err, topic: message.topic }, 'live event could not be resolved');
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
