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

/** A real graphql-ws client subscribed to one operation, collecting what it receives. */
export function subscribeWs(gatewayUrl: string, token: string | undefined, query: string, connectionParams?: Record<string, unknown>): LiveSubscription {
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
    { query },
    {
      next: (value) => void sub.events.push(value as LiveSubscription['events'][number]),
      error: (err) => void sub.errors.push(err),
      complete: () => void (sub.completed = true),
    },
  );
  return sub;
}

/** GraphQL over SSE (distinct connections mode): POST with Accept: text/event-stream. */
export async function subscribeSse(gatewayUrl: string, token: string | undefined, query: string) {
  const controller = new AbortController();
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  const out = {
    status: res.status,
    events: [] as { event: string; data: any }[],
    ended: false,
    waitFor: (n: number, ms = 5_000) => until(() => out.events.filter((e) => e.event === 'next').length >= n, ms, `${n} SSE events`),
    close: () => controller.abort(),
    body: '' as string,
  };
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    out.body = await res.text();
    return out;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: ?(.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (event) out.events.push({ event, data: data ? JSON.parse(data) : undefined });
        }
      }
    } catch {
      // aborted by close()
    }
    out.ended = true;
  })();
  return out;
}
