import { CORRELATION_HEADER, ErrorCode, SERVICE_TOKEN_HEADER, type Logger, type SubscriptionTransport } from '@fitsync/service-kit';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Limiter } from './limiter.js';

/**
 * Upstream connections to one subgraph in their handshake at once (opened, `connection_init`
 * sent, not yet acknowledged); the others wait their turn in the gateway. graphql-ws servers
 * close a connection whose `connection_init` has not been read within 3 s of the upgrade
 * (4408): a burst of thousands opened at once (bench:subscriptions --mode upstream at 10,000
 * subscribers) kept the subgraph's event loop, and the gateway's, busy past that, and 32 to
 * 208 of 10,000 upstream subscriptions failed, more the busier the machine.
 */
export const DEFAULT_MAX_UPSTREAM_HANDSHAKES = 16;

/**
 * Times a connection the subgraph closed with 4408 before acknowledging it is opened again
 * (at once): nothing was subscribed on it yet, so nothing is lost or sent twice.
 */
const INIT_TIMEOUT_RETRIES = 2;
const CONNECTION_INIT_TIMEOUT = 4408;

/** One subscription to a subgraph that serves its own: what to send, where, how and as whom. */
export interface UpstreamRequest {
  subgraph: string;
  /** The subgraph's routing URL (http or https); graphql-ws goes to the same path over ws or wss. */
  url: string;
  transport: SubscriptionTransport;
  /** The planner's primary fetch: the document the subgraph is sent, and the variables it uses. */
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  /** The caller's `Authorization` (the subgraph does its access checks with it). */
  authorization?: string;
  correlationId?: string;
}

/** What a client subscription hears from the upstream subscription it shares. */
export interface UpstreamListener {
  /** One event: the primary fetch's result, in the subgraph's terms. */
  next(result: FormattedExecutionResult): void;
  /** The upstream ended or failed: coded errors for the client, then `complete`. */
  end(errors: GraphQLFormattedError[]): void;
}

interface Shared {
  listeners: Set<UpstreamListener>;
  stop(): void;
  ended: boolean;
}

/**
 * One caller's connection to one subgraph: a graphql-ws client (one WebSocket, every
 * subscription of that caller multiplexed on it) or a graphql-sse client. `connection_init`
 * (or each SSE request's headers) carries the caller's identity, so only subscriptions of the
 * same caller ever share one.
 */
interface Connection {
  subscribe(payload: { query: string; operationName?: string; variables: Record<string, unknown> }, sink: Sink): () => void;
  dispose(): void;
  /** Upstream subscriptions on it that have not stopped yet. */
  users: number;
  /** Its socket closed (or failed): new subscriptions get a connection of their own. */
  broken: boolean;
  /** What made its socket fail (EMFILE, ECONNREFUSED, a close code), for the log. */
  cause?: string;
}

interface Sink {
  next(result: FormattedExecutionResult): void;
  error(err: unknown): void;
  complete(): void;
}

/**
 * The gateway's subscriptions to subgraphs that serve their own (Subscription fields without
 * `@liveTopic`). Identical client subscriptions (the same primary fetch, variables and
 * caller) share one upstream subscription, opened with the first and closed when the last
 * client leaves; and every upstream subscription of one caller to one subgraph goes over one
 * connection (graphql-ws multiplexes them), opened with the first and closed with the last.
 * The caller's identity, the correlation id of the subscription that opened the connection
 * and the gateway's service credential go in `connection_init` (graphql-ws) or the request's
 * headers (SSE), as on every HTTP request to a subgraph: two callers never share a
 * connection. No reconnection: when the upstream ends or fails, each client gets a
 * SERVICE_UNAVAILABLE error and `complete`, and reconnects if it wants to.
 */
export class UpstreamSubscriptions {
  readonly #open = new Map<string, Shared>();
  /** Upstream subscriptions open now, by subgraph: the gauge, kept as they open and close (not recounted from #open, O(n) per subscribe). */
  readonly #bySubgraph = new Map<string, number>();
  readonly #connections = new Map<string, Connection>();
  /** By subgraph: the handshakes in flight to it. */
  readonly #handshakes = new Map<string, Limiter>();
  #closed = false;

  constructor(
    private readonly deps: {
      /** The gateway's service credential, signed fresh when due. */
      serviceToken(): Promise<string>;
      log: Logger;
      /** The WebSocket ping interval (a subgraph that stops answering is noticed). */
      keepAliveMs: number;
      /** Upstream subscriptions open now, by subgraph (a gauge). */
      onCount?(subgraph: string, open: number): void;
      /** Connections to one subgraph in their handshake at once. Default DEFAULT_MAX_UPSTREAM_HANDSHAKES. */
      maxHandshakes?: number;
    },
  ) {}

  /** What makes two upstream subscriptions the same one. */
  static key(req: UpstreamRequest): string {
    return JSON.stringify([req.subgraph, req.url, req.transport, req.query, req.operationName ?? null, req.variables, req.authorization ?? null]);
  }

  /** What makes two upstream subscriptions go over the same connection: the same subgraph, address, transport and caller. */
  static connectionKey(req: UpstreamRequest): string {
    return JSON.stringify([req.subgraph, req.url, req.transport, req.authorization ?? null]);
  }

  /** Upstream subscriptions open now (each shared by one client subscription or more). */
  get size(): number {
    return this.#open.size;
  }

  /** Upstream connections open now (each carrying the subscriptions of one caller to one subgraph). */
  get connections(): number {
    return this.#connections.size;
  }

  /** Hears `req`'s events until the returned function is called; joins an identical subscription already open. */
  listen(req: UpstreamRequest, listener: UpstreamListener): () => void {
    if (this.#closed) {
      listener.end([unavailable(req.subgraph, 'the gateway is closing')]);
      return () => {};
    }
    const key = UpstreamSubscriptions.key(req);
    let shared = this.#open.get(key);
    if (!shared || shared.ended) {
      shared = this.#start(key, req);
      this.#open.set(key, shared);
      this.#count(req.subgraph, +1);
    }
    const joined = shared;
    joined.listeners.add(listener);
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size > 0 || joined.ended) return;
      joined.ended = true;
      this.#forget(key, joined, req.subgraph);
      joined.stop();
    };
  }

  #forget(key: string, shared: Shared, subgraph: string) {
    if (this.#open.get(key) !== shared) return;
    this.#open.delete(key);
    this.#count(subgraph, -1);
  }

  #count(subgraph: string, delta: number) {
    const open = (this.#bySubgraph.get(subgraph) ?? 0) + delta;
    if (open > 0) this.#bySubgraph.set(subgraph, open);
    else this.#bySubgraph.delete(subgraph);
    this.deps.onCount?.(subgraph, open);
  }

  #start(key: string, req: UpstreamRequest): Shared {
    const shared: Shared = { listeners: new Set(), ended: false, stop: () => {} };
    const connection = this.#connection(req);
    const finish = (errors: GraphQLFormattedError[]) => {
      if (shared.ended) return;
      shared.ended = true;
      this.#forget(key, shared, req.subgraph);
      for (const listener of [...shared.listeners]) listener.end(errors);
      shared.listeners.clear();
      // After the sink's last call: the client lets go of the subscription (and of its connection if it was the last).
      queueMicrotask(() => shared.stop());
    };
    // The logger's child only when there is something to say: one per subscription costs memory for nothing.
    const log = () => this.deps.log.child({ subgraph: req.subgraph, transport: req.transport, correlationId: req.correlationId });
    const sink: Sink = {
      next: (result) => {
        if (shared.ended) return;
        for (const listener of shared.listeners) listener.next(result);
      },
      error: (err) => {
        const errors = subgraphErrors(req.subgraph, err);
        if (!shared.ended) log().warn({ reason: describe(err), cause: connection.cause }, 'upstream subscription failed');
        finish(errors ?? [unavailable(req.subgraph, 'its subscription failed')]);
      },
      complete: () => {
        if (!shared.ended) log().info('upstream subscription ended by the subgraph');
        finish([unavailable(req.subgraph, 'it ended the subscription')]);
      },
    };
    connection.users++;
    const unsubscribe = connection.subscribe({ query: req.query, operationName: req.operationName, variables: req.variables }, sink);
    let stopped = false;
    shared.stop = () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      this.#release(UpstreamSubscriptions.connectionKey(req), connection);
    };
    return shared;
  }

  /** The caller's open connection to the subgraph, or a new one. */
  #connection(req: UpstreamRequest): Connection {
    const key = UpstreamSubscriptions.connectionKey(req);
    const open = this.#connections.get(key);
    if (open && !open.broken) return open;
    const connection = this.#connect(req, () => {
      connection.broken = true;
      if (this.#connections.get(key) === connection) this.#connections.delete(key);
    });
    this.#connections.set(key, connection);
    return connection;
  }

  /** One subscription less on `connection`: closed with its last. */
  #release(key: string, connection: Connection) {
    connection.users--;
    if (connection.users > 0) return;
    if (this.#connections.get(key) === connection) this.#connections.delete(key);
    connection.dispose();
  }

  #connect(req: UpstreamRequest, onClosed: () => void): Connection {
    const identity = async (): Promise<Record<string, string>> => ({
      [SERVICE_TOKEN_HEADER]: await this.deps.serviceToken(),
      ...(req.authorization ? { authorization: req.authorization } : {}),
      ...(req.correlationId ? { [CORRELATION_HEADER]: req.correlationId } : {}),
    });
    if (req.transport === 'sse') {
      const client = createSseClient({ url: req.url, headers: identity, retryAttempts: 0 });
      return {
        users: 0,
        broken: false,
        subscribe: (payload, sink) => client.subscribe(payload, sink),
        dispose: () => client.dispose(),
      };
    }
    // The first subscribe opens the socket (graphql-ws is lazy): none is sent before the
    // connection has its turn; once acknowledged, the others go over it at once.
    let turn!: () => void;
    const ready = new Promise<void>((resolve) => (turn = resolve));
    let handshakeDone: (() => void) | undefined;
    let disposed = false;
    let acknowledged = false;
    const endHandshake = () => {
      handshakeDone?.();
      handshakeDone = undefined;
    };
    const connection: Connection = {
      users: 0,
      broken: false,
      subscribe: (payload, sink) => {
        let unsubscribe: (() => void) | undefined;
        let cancelled = false;
        void ready.then(() => {
          if (!cancelled) unsubscribe = client.subscribe(payload, sink);
        });
        return () => {
          cancelled = true;
          unsubscribe?.();
        };
      },
      dispose: () => {
        disposed = true;
        endHandshake();
        void client.dispose();
      },
    };
    void this.#handshakeLimit(req.subgraph).run(
      () =>
        new Promise<void>((resolve) => {
          if (disposed) return resolve();
          handshakeDone = resolve;
          turn();
        }),
    );
    let retries = 0;
    const client = createWsClient({
      url: wsUrl(req.url),
      webSocketImpl: WebSocket,
      connectionParams: identity,
      // Only a connection never acknowledged, closed by the subgraph for a late connection_init;
      // a connection that was serving subscriptions is never opened again behind the client's back.
      retryAttempts: INIT_TIMEOUT_RETRIES,
      shouldRetry: (event) => !acknowledged && lateInit(event),
      retryWait: () => Promise.resolve(),
      keepAlive: this.deps.keepAliveMs,
      on: {
        connecting: (isRetry) => {
          if (isRetry) this.deps.log.info({ subgraph: req.subgraph, attempt: ++retries }, 'upstream connection_init timed out; connecting again');
        },
        connected: () => {
          acknowledged = true;
          endHandshake();
        },
        // The socket's own error (EMFILE, ECONNREFUSED, ...): the close that follows says only 1006.
        error: (err) => (connection.cause ??= describe(err)),
        closed: (event) => {
          // graphql-ws connects again (see shouldRetry): the connection is not over yet.
          if (!acknowledged && retries < INIT_TIMEOUT_RETRIES && lateInit(event) && !disposed) return;
          // A connection refused or lost before its acknowledgement gives its turn back too.
          endHandshake();
          connection.cause ??= describe(event);
          onClosed();
        },
      },
    });
    return connection;
  }

  #handshakeLimit(subgraph: string): Limiter {
    let limiter = this.#handshakes.get(subgraph);
    if (!limiter) this.#handshakes.set(subgraph, (limiter = new Limiter(this.deps.maxHandshakes ?? DEFAULT_MAX_UPSTREAM_HANDSHAKES)));
    return limiter;
  }

  /** Closes every upstream subscription; their clients are being completed by the gateway. */
  close() {
    this.#closed = true;
    for (const shared of this.#open.values()) {
      shared.ended = true;
      shared.stop();
    }
    this.#open.clear();
    this.#bySubgraph.clear();
    for (const connection of this.#connections.values()) connection.dispose();
    this.#connections.clear();
  }
}

/** The subgraph closed the connection because its connection_init came too late. */
function lateInit(event: unknown): boolean {
  return (event as { code?: unknown })?.code === CONNECTION_INIT_TIMEOUT;
}

/** ws:// for http://, wss:// for https://, the same host and path. */
export function wsUrl(url: string): string {
  return url.replace(/^http(s?):/i, 'ws$1:');
}

function unavailable(subgraph: string, why: string): GraphQLFormattedError {
  return { message: `The ${subgraph} service is unavailable: ${why}`, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, service: subgraph } };
}

/**
 * A subgraph's own refusal of the subscription (graphql-ws's `error` message: a list of
 * GraphQL errors), kept with its code and message only; anything else is not its word.
 */
function subgraphErrors(subgraph: string, err: unknown): GraphQLFormattedError[] | undefined {
  if (!Array.isArray(err) || err.length === 0) return undefined;
  return err.map((e: { message?: unknown; extensions?: { code?: unknown } }) => ({
    message: typeof e?.message === 'string' ? e.message : `The ${subgraph} service refused the subscription`,
    extensions: { code: typeof e?.extensions?.code === 'string' ? e.extensions.code : ErrorCode.SERVICE_UNAVAILABLE, service: subgraph },
  }));
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  // ws hands graphql-ws an ErrorEvent: the Error (with its errno code) is inside.
  const wrapped = (err as { error?: unknown })?.error;
  if (wrapped instanceof Error) return wrapped.message;
  const close = err as { code?: unknown; reason?: unknown };
  if (typeof close?.code === 'number') return `closed ${close.code}${typeof close.reason === 'string' && close.reason ? ` ${close.reason}` : ''}`;
  return Array.isArray(err) ? err.map((e: { message?: unknown }) => String(e?.message)).join('; ') : String(err);
}
