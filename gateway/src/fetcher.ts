import http from 'node:http';
import https from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';

// The fetch contract @apollo/gateway expects, taken from it rather than from its own dependency.
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherRequestInit = NonNullable<Parameters<Fetcher>[1]>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];

/** A subgraph did not answer within the gateway's deadline. */
export class SubgraphTimeoutError extends Error {
  override name = 'SubgraphTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export interface KeepAliveFetcher {
  /**
   * Fetches within `timeoutMs`, or the fetcher's own deadline. `safeToRepeat` (a query, never
   * a mutation): sent once more, on a new connection, when the pooled connection it went out on
   * turns out to be closed by the subgraph (reset or hung up before any answer).
   */
  fetch: (url: string, init?: FetcherRequestInit, timeoutMs?: number, safeToRepeat?: boolean) => Promise<FetcherResponse>;
  /** Closes the pooled sockets (on shutdown). */
  close(): void;
}

/**
 * How long a pooled connection may sit idle before the gateway closes it: under the 5 s a Node
 * server (every subgraph here) keeps an idle connection open, so that the gateway is the side
 * that closes it. Node's agent lowers it further to a second under what a server announces
 * (`Keep-Alive: timeout=5` gives 4 s), but only when it is set: without it the pool kept idle
 * connections for ever, and a request sent on one at the moment the subgraph closed it got
 * `ECONNRESET` or `socket hang up` (the soak's error answers, one in a few thousand dashboards).
 */
export const IDLE_TIMEOUT_MS = 4_000;

/** What a request gets when the connection it was sent on had been closed by the other side. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);
const isStaleConnection = (err: Error & { code?: string }) => STALE_CONNECTION.has(err.code ?? '') || err.message === 'socket hang up';

/**
 * The gateway's HTTP client for subgraphs: pooled keep-alive sockets (a dashboard
 * fans out to five subgraphs per request; a new TCP connection each time would
 * dominate the latency) closed after `idleTimeoutMs` idle (see IDLE_TIMEOUT_MS), a
 * whole-request deadline, and no caching. The one retry: a query (`safeToRepeat`) whose
 * pooled connection the subgraph had closed already, before any answer, goes out once more on
 * a new one, as Node's documentation of `request.reusedSocket` advises; a mutation never
 * (it must never be sent twice: the subgraph may have run it before the connection went).
 * Plain node:http: the gateway only ever POSTs small JSON bodies and reads them back whole.
 */
export function createKeepAliveFetcher(opts: { timeoutMs: number; maxSockets?: number; idleTimeoutMs?: number }): KeepAliveFetcher {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 256, scheduling: 'lifo' as const, timeout: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  // A gateway asks a handful of URLs (one per subgraph) over and over: parsed once each.
  const parsed = new Map<string, URL>();
  const urlOf = (url: string) => {
    let target = parsed.get(url);
    if (!target) {
      if (parsed.size >= 64) parsed.clear();
      target = new URL(url);
      parsed.set(url, target);
    }
    return target;
  };

  const fetch = (url: string, init: FetcherRequestInit = {}, timeoutMs = opts.timeoutMs, safeToRepeat = false) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const target = urlOf(url);
      const secure = target.protocol === 'https:';
      const headers: Record<string, string | number> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      let req: http.ClientRequest;
      let repeated = false;
      const send = () => {
        let answered = false;
        const sent = (req = (secure ? https : http).request(
          target,
          { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : httpAgent },
          (res) => {
            answered = true;
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', fail);
            res.on('end', () => {
              clearTimeout(deadline);
              resolve(new BufferedResponse(url, res, Buffer.concat(chunks)));
            });
          },
        ));
        sent.on('error', (err: Error) => {
          // The subgraph had closed the pooled connection this went out on: nothing was answered,
          // and a query may go again on a new connection (once; within the same deadline).
          if (safeToRepeat && !repeated && !answered && sent.reusedSocket && !(err instanceof SubgraphTimeoutError) && isStaleConnection(err)) {
            repeated = true;
            send();
          } else fail(err);
        });
        sent.end(init.body);
      };
      const deadline = setTimeout(() => req.destroy(new SubgraphTimeoutError(`no answer from ${target.origin} within ${timeoutMs} ms`)), timeoutMs);
      function fail(err: Error) {
        clearTimeout(deadline);
        reject(err);
      }
      send();
    });

  return {
    fetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

class BufferedResponse implements FetcherResponse {
  readonly redirected = false;
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: Headers;
  bodyUsed = false;

  constructor(
    readonly url: string,
    res: http.IncomingMessage,
    private readonly body: Buffer,
  ) {
    this.status = res.statusCode ?? 0;
    this.statusText = res.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new ResponseHeaders(res.headers);
  }

  async text() {
    this.bodyUsed = true;
    return this.body.toString('utf8');
  }
  async json() {
    return JSON.parse(await this.text());
  }
  async arrayBuffer() {
    this.bodyUsed = true;
    return this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength) as ArrayBuffer;
  }
  clone(): FetcherResponse {
    return Object.assign(Object.create(BufferedResponse.prototype), this, { bodyUsed: false });
  }
}

/**
 * A response's headers as the fetch contract reads them (`get('content-type')`,
 * `get('cache-control')` on every subgraph answer). Node has already parsed and lower-cased
 * them; a WHATWG `Headers` would validate and copy each one again per response.
 */
class ResponseHeaders implements FetcherHeaders {
  readonly #map = new Map<string, string>();

  constructor(raw: http.IncomingHttpHeaders) {
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) this.#map.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.#map.set(name.toLowerCase(), String(value));
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const before = this.#map.get(key);
    this.#map.set(key, before === undefined ? String(value) : `${before}, ${value}`);
  }
  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }
  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.#map) callback.call(thisArg, value, name, this);
  }
  getSetCookie(): string[] {
    const value = this.#map.get('set-cookie');
    return value === undefined ? [] : [value];
  }
  entries() {
    return this.#map.entries();
  }
  keys() {
    return this.#map.keys();
  }
  values() {
    return this.#map.values();
  }
  [Symbol.iterator]() {
    return this.#map.entries();
  }
}
