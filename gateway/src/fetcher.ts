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
  /** Fetches within `timeoutMs`, or the fetcher's own deadline. */
  fetch: (url: string, init?: FetcherRequestInit, timeoutMs?: number) => Promise<FetcherResponse>;
  /** Closes the pooled sockets (on shutdown). */
  close(): void;
}

/**
 * The gateway's HTTP client for subgraphs: pooled keep-alive sockets (a dashboard
 * fans out to five subgraphs per request; a new TCP connection each time would
 * dominate the latency), a whole-request deadline, and no caching or retries
 * (mutations must never be sent twice). Plain node:http: the gateway only ever
 * POSTs small JSON bodies and reads them back whole.
 */
export function createKeepAliveFetcher(opts: { timeoutMs: number; maxSockets?: number }): KeepAliveFetcher {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 256, scheduling: 'lifo' as const };
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

  const fetch = (url: string, init: FetcherRequestInit = {}, timeoutMs = opts.timeoutMs) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const target = urlOf(url);
      const secure = target.protocol === 'https:';
      const headers: Record<string, string | number> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const req = (secure ? https : http).request(target, { method: init.method ?? 'GET', headers, agent: secure ? httpsAgent : httpAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(deadline);
          resolve(new BufferedResponse(url, res, Buffer.concat(chunks)));
        });
      });
      const deadline = setTimeout(() => req.destroy(new SubgraphTimeoutError(`no answer from ${target.origin} within ${timeoutMs} ms`)), timeoutMs);
      function fail(err: Error) {
        clearTimeout(deadline);
        reject(err);
      }
      req.on('error', fail);
      req.end(init.body);
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
