import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import { vi } from 'vitest';
import WebSocket from 'ws';

export interface LiveSubscription {
  events: { data?: any; errors?: any[] }[];
  errors: unknown[];
  completed: boolean;
  closed?: { code: number; reason: string };
  client: Client;
  /** Waits until `n` events arrived (or fails after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  dispose(): Promise<void>;
}

export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

/** Waits (vitest's `vi.waitFor`) until `check()` holds, failing after `ms` with what it waited for. */
export async function until(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    },
    { timeout: ms, interval: 10 },
  );
}

/**
 * A real graphql-ws client subscribed to one operation, collecting what it receives. `extra`
 * goes into the subscribe payload too (a document id: `{ documentId }` or `{ extensions: { persistedQuery } }`).
 */
export function subscribeWs(
  gatewayUrl: string,
  token: string | undefined,
  query: string,
  connectionParams?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): LiveSubscription {
  const sub: LiveSubscription = {
    events: [],
    errors: [],
    completed: false,
    client: createClient({
      url: wsUrl(gatewayUrl),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
      on: {
        closed: (e) => {
          const { code, reason } = e as { code: number; reason: string };
          sub.closed = { code, reason: String(reason) };
        },
      },
    }),
    waitFor: (n, ms = 5_000) => until(() => sub.events.length >= n, ms, `${n} events (have ${sub.events.length})`),
    async dispose() {
      await sub.client.dispose();
    },
  };
  sub.client.subscribe(
    { ...extra, query },
    {
      next: (value) => void sub.events.push(value as LiveSubscription['events'][number]),
      error: (err) => void sub.errors.push(err),
      complete: () => void (sub.completed = true),
    },
  );
  return sub;
}

/** What a GraphQL-over-SSE subscription received, through graphql-sse's own client. */
export interface SseSubscription {
  events: { data?: any; errors?: any[] }[];
  errors: unknown[];
  completed: boolean;
  /** Resolves with the refusal when the gateway answers the request with an error status. */
  refused: Promise<NetworkError<Response>>;
  /** Waits until `n` events arrived (or fails after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): void;
}

/** GraphQL over SSE (distinct connections mode): POST with Accept: text/event-stream, via graphql-sse's client; `extra` joins the body. */
export function subscribeSse(gatewayUrl: string, token: string | undefined, query: string, extra: Record<string, unknown> = {}): SseSubscription {
  const client = createSseClient({ url: gatewayUrl, retryAttempts: 0, headers: token ? { authorization: `Bearer ${token}` } : {} });
  let refuse: (err: NetworkError<Response>) => void = () => undefined;
  const out: SseSubscription = {
    events: [],
    errors: [],
    completed: false,
    refused: new Promise((resolve) => (refuse = resolve)),
    waitFor: (n, ms = 5_000) => until(() => out.events.length >= n, ms, `${n} SSE events (have ${out.events.length})`),
    close: () => {
      dispose();
      client.dispose();
    },
  };
  const dispose = client.subscribe(
    // graphql-sse's client posts the payload as it is: `extra` (a document id) goes with it.
    { ...extra, query },
    {
      next: (value) => void out.events.push(value as SseSubscription['events'][number]),
      error: (err) => {
        out.errors.push(err);
        if (err instanceof NetworkError) refuse(err as NetworkError<Response>);
      },
      complete: () => void (out.completed = true),
    },
  );
  return out;
}
