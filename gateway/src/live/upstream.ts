import { CORRELATION_HEADER, ErrorCode, SERVICE_TOKEN_HEADER, type Logger, type SubscriptionTransport } from '@fitsync/service-kit';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

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
 * The gateway's subscriptions to subgraphs that serve their own (Subscription fields without
 * `@liveTopic`). Identical client subscriptions (the same primary fetch, variables and
 * caller) share one upstream subscription, opened with the first and closed when the last
 * client leaves. The caller's identity, the correlation id and the gateway's service
 * credential go in `connection_init` (graphql-ws) or the request's headers (SSE), as on every
 * HTTP request to a subgraph. No reconnection: when the upstream ends or fails, each client
 * gets a SERVICE_UNAVAILABLE error and `complete`, and reconnects if it wants to.
 */
export class UpstreamSubscriptions {
  readonly #open = new Map<string, Shared>();
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
    },
  ) {}

  /** What makes two upstream subscriptions the same one. */
  static key(req: UpstreamRequest): string {
    return JSON.stringify([req.subgraph, req.url, req.transport, req.query, req.operationName ?? null, req.variables, req.authorization ?? null]);
  }

  /** Upstream subscriptions open now (each shared by one client subscription or more). */
  get size(): number {
    return this.#open.size;
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
      this.#count(req.subgraph);
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
    this.#count(subgraph);
  }

  #count(subgraph: string) {
    if (!this.deps.onCount) return;
    const prefix = JSON.stringify([subgraph]).slice(0, -1) + ',';
    this.deps.onCount(subgraph, [...this.#open.keys()].filter((k) => k.startsWith(prefix)).length);
  }

  #start(key: string, req: UpstreamRequest): Shared {
    const shared: Shared = { listeners: new Set(), ended: false, stop: () => {} };
    const log = this.deps.log.child({ subgraph: req.subgraph, transport: req.transport, correlationId: req.correlationId });
    const finish = (errors: GraphQLFormattedError[]) => {
      if (shared.ended) return;
      shared.ended = true;
      this.#forget(key, shared, req.subgraph);
      for (const listener of [...shared.listeners]) listener.end(errors);
      shared.listeners.clear();
      // After the sink's last call: the client lets go of its connection.
      queueMicrotask(() => shared.stop());
    };
    const sink = {
      next: (result: FormattedExecutionResult) => {
        if (shared.ended) return;
        for (const listener of shared.listeners) listener.next(result);
      },
      error: (err: unknown) => {
        const errors = subgraphErrors(req.subgraph, err);
        if (!shared.ended) log.warn({ reason: describe(err) }, 'upstream subscription failed');
        finish(errors ?? [unavailable(req.subgraph, 'its subscription failed')]);
      },
      complete: () => {
        if (!shared.ended) log.info('upstream subscription ended by the subgraph');
        finish([unavailable(req.subgraph, 'it ended the subscription')]);
      },
    };
    const identity = async (): Promise<Record<string, string>> => ({
      [SERVICE_TOKEN_HEADER]: await this.deps.serviceToken(),
      ...(req.authorization ? { authorization: req.authorization } : {}),
      ...(req.correlationId ? { [CORRELATION_HEADER]: req.correlationId } : {}),
    });
    const payload = { query: req.query, operationName: req.operationName, variables: req.variables };
    if (req.transport === 'sse') {
      const client = createSseClient({ url: req.url, headers: identity, retryAttempts: 0 });
      const unsubscribe = client.subscribe(payload, sink);
      shared.stop = () => {
        unsubscribe();
        client.dispose();
      };
    } else {
      const client = createWsClient({
        url: wsUrl(req.url),
        webSocketImpl: WebSocket,
        connectionParams: identity,
        retryAttempts: 0,
        shouldRetry: () => false,
        keepAlive: this.deps.keepAliveMs,
      });
      const unsubscribe = client.subscribe(payload, sink);
      shared.stop = () => {
        unsubscribe();
        void client.dispose();
      };
    }
    return shared;
  }

  /** Closes every upstream subscription; their clients are being completed by the gateway. */
  close() {
    this.#closed = true;
    for (const shared of this.#open.values()) {
      shared.ended = true;
      shared.stop();
    }
    this.#open.clear();
  }
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
  const close = err as { code?: unknown; reason?: unknown };
  if (typeof close?.code === 'number') return `closed ${close.code}${typeof close.reason === 'string' && close.reason ? ` ${close.reason}` : ''}`;
  return Array.isArray(err) ? err.map((e: { message?: unknown }) => String(e?.message)).join('; ') : String(err);
}
