import http from 'node:http';
import https from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';

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

/** The HTTP client under the fetcher: undici (`Agent` over a keep-alive `Pool` per origin) or node:http's `Agent`. */
export type SubgraphClient = 'undici' | 'node';
export const SUBGRAPH_CLIENTS: readonly SubgraphClient[] = ['undici', 'node'];

export interface KeepAliveFetcherOptions {
  /** Deadline for one whole request (connect, send, headers and body), unless `fetch` is given one. */
  timeoutMs: number;
  /** Connections kept per origin (default 256). */
  maxSockets?: number;
  /** Default `node` (GATEWAY_SUBGRAPH_CLIENT). */
  client?: SubgraphClient;
  /** How long a pooled connection may sit idle before the gateway closes it (default IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

/**
 * How long a pooled connection may sit idle before the gateway closes it: under the 5 s a Node
 * server (every subgraph here) keeps an idle connection open, so that the gateway is the side
 * that closes it. Node's agent lowers it further to a second under what a server announces
 * (`Keep-Alive: timeout=5` gives 4 s), but only when it is set: without it the pool kept idle
 * connections for ever, and a request sent on one at the moment the subgraph closed it got
 * `ECONNRESET` or `socket hang up` (the soak's error answers, one in a few thousand dashboards).
 * undici's pool does the same by default (keepAliveTimeout 4 s, less the server's hint).
 */
export const IDLE_TIMEOUT_MS = 4_000;

/** What a request gets when the connection it was sent on had been closed by the other side. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);
const isStaleConnection = (err: Error & { code?: string }) => STALE_CONNECTION.has(err.code ?? '') || err.message === 'socket hang up';

/**
 * The gateway's HTTP client for subgraphs: pooled keep-alive sockets (a dashboard
 * fans out to five subgraphs per request; a new TCP connection each time would
 * dominate the latency), a whole-request deadline, no caching, and no retry but one:
 * a query sent once more when its pooled connection had been closed under it (mutations
 * are never sent twice). The gateway only ever POSTs small JSON
 * bodies and reads them back whole: either client reads the answer into one buffer.
 */
export function createKeepAliveFetcher(opts: KeepAliveFetcherOptions): KeepAliveFetcher {
  const client = (opts.client ?? 'node') === 'undici' ? undiciClient(opts) : nodeClient(opts);
  return { fetch: withDeadline(client.send, opts.timeoutMs), close: client.close };
}

/** One request on the wire: its answer read whole, or a way to end it (the deadline). */
interface Attempt {
  done: Promise<FetcherResponse>;
  abort(err: Error): void;
}

/** What a client under the fetcher does: send one request once, and close its pool. */
interface SubgraphHttpClient {
  send: (url: string, init: FetcherRequestInit) => Attempt;
  close: () => void;
}

/**
 * Errors of attempts whose pooled connection the subgraph had already closed, before any
 * answer: nothing ran, and a query may go again on a new connection.
 */
const staleAttempts = new WeakSet<Error>();

/**
 * The deadline and the one retry, the same for either client. The deadline covers the whole
 * request, a repeat included; when it passes, the attempt is ended and the promise fails at once
 * (a request still queued for a connection may report its end only once it gets one). A query
 * (`safeToRepeat`) whose attempt failed on a stale pooled connection is sent once more; a
 * mutation never (the subgraph may have run it before the connection went).
 */
function withDeadline(send: SubgraphHttpClient['send'], defaultTimeoutMs: number): KeepAliveFetcher['fetch'] {
  const originOf = urlCache((u) => u.origin);
  return (url, init = {}, timeoutMs = defaultTimeoutMs, safeToRepeat = false) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      let settled = false;
      let repeated = false;
      let current: Attempt;
      const deadline = setTimeout(() => {
        const err = timeoutError(originOf(url), timeoutMs);
        settled = true;
        current.abort(err);
        reject(err);
      }, timeoutMs);
      const go = () => {
        const attempt = (current = send(url, init));
        attempt.done.then(
          (res) => {
            if (settled) return;
            settled = true;
            clearTimeout(deadline);
            resolve(res);
          },
          (err: Error) => {
            if (settled) return;
            if (safeToRepeat && !repeated && staleAttempts.has(err)) {
              repeated = true;
              go();
              return;
            }
            settled = true;
            clearTimeout(deadline);
            reject(err);
          },
        );
      };
      go();
    });
}

// A gateway asks a handful of URLs (one per subgraph) over and over: parsed once each.
function urlCache<T>(make: (url: URL) => T): (url: string) => T {
  const parsed = new Map<string, T>();
  return (url) => {
    let target = parsed.get(url);
    if (target === undefined) {
      if (parsed.size >= 64) parsed.clear();
      target = make(new URL(url));
      parsed.set(url, target);
    }
    return target;
  };
}

function timeoutError(origin: string, timeoutMs: number) {
  return new SubgraphTimeoutError(`no answer from ${origin} within ${timeoutMs} ms`);
}

/**
 * node:http's Agent, idle connections closed after `idleTimeoutMs` (IDLE_TIMEOUT_MS). An
 * attempt that went out on a pooled connection the subgraph had closed already, before any
 * answer, is marked stale, so that `withDeadline` sends a query once more on a new one, as
 * Node's documentation of `request.reusedSocket` advises.
 */
function nodeClient(opts: KeepAliveFetcherOptions): SubgraphHttpClient {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 256, scheduling: 'lifo' as const, timeout: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const urlOf = urlCache((u) => u);

  const send = (url: string, init: FetcherRequestInit): Attempt => {
    const target = urlOf(url);
    const secure = target.protocol === 'https:';
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    let req!: http.ClientRequest;
    const done = new Promise<FetcherResponse>((resolve, reject) => {
      let answered = false;
      req = (secure ? https : http).request(target, { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : httpAgent }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve(new BufferedResponse(url, res.statusCode ?? 0, res.statusMessage ?? '', ResponseHeaders.fromNode(res.headers), Buffer.concat(chunks))),
        );
      });
      req.on('error', (err: Error) => {
        if (!answered && req.reusedSocket && isStaleConnection(err)) staleAttempts.add(err);
        reject(err);
      });
      req.end(init.body);
    });
    return { done, abort: (err) => req.destroy(err) };
  };

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * undici's dispatcher API, one handler per request: no Readable body, no AbortSignal, the
 * raw header pairs read once. undici sends each request once (retries only through its
 * RetryAgent/retry interceptor, not used here) and does not say whether a connection was
 * reused, so no attempt is marked stale; `abort` (handed over once the request is written to a
 * connection) ends it and destroys that connection.
 */
function undiciClient(opts: KeepAliveFetcherOptions): SubgraphHttpClient {
  const agent = new UndiciAgent({ connections: opts.maxSockets ?? 256, pipelining: 1 });
  const targetOf = urlCache((u) => ({ origin: u.origin, path: `${u.pathname}${u.search}` }));

  const send = (url: string, init: FetcherRequestInit): Attempt => {
    const { origin, path } = targetOf(url);
    let abortRequest: ((err: Error) => void) | undefined;
    let abortedWith: Error | undefined;
    const done = new Promise<FetcherResponse>((resolve, reject) => {
      let status = 0;
      let statusText = '';
      let headers: ResponseHeaders | undefined;
      const chunks: Buffer[] = [];
      agent.dispatch(
        { origin, path, method: (init.method ?? 'GET') as Dispatcher.HttpMethod, headers: init.headers, body: init.body },
        {
          onConnect(abort) {
            // Ended before a connection took it (queued, or connecting): it goes no further.
            if (abortedWith) abort(abortedWith);
            else abortRequest = abort;
          },
          onHeaders(statusCode, rawHeaders, _resume, message) {
            // 1xx informational answers come first; only the final one counts.
            if (statusCode < 200) return true;
            status = statusCode;
            statusText = message;
            headers = ResponseHeaders.fromRaw(rawHeaders);
            return true;
          },
          onData(chunk) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            resolve(new BufferedResponse(url, status, statusText, headers ?? new ResponseHeaders(), chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
          },
          onError: reject,
        },
      );
    });
    return {
      done,
      abort(err) {
        abortedWith = err;
        abortRequest?.(err);
      },
    };
  };

  return {
    send,
    close() {
      void agent.destroy().catch(() => undefined);
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
    status: number,
    statusText: string,
    headers: ResponseHeaders,
    private readonly body: Buffer,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.ok = status >= 200 && status < 300;
    this.headers = headers;
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

  /** From node:http's parsed headers (names lower-cased, repeats joined or in an array). */
  static fromNode(raw: http.IncomingHttpHeaders): ResponseHeaders {
    const headers = new ResponseHeaders();
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) headers.#map.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return headers;
  }

  /** From undici's raw pairs (name, value, name, value...; names as sent): repeats comma-joined. */
  static fromRaw(raw: Buffer[] | string[] | null): ResponseHeaders {
    const headers = new ResponseHeaders();
    if (!raw) return headers;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i].toString('latin1').toLowerCase();
      const value = raw[i + 1].toString('latin1');
      const before = headers.#map.get(name);
      headers.#map.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    return headers;
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
