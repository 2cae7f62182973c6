import { Kind, parse, type DocumentNode } from 'graphql';
import WebSocket from 'ws';
import { undeclaredSubscriptionFields, type SubscriptionTransport } from './live-topics.js';

/**
 * What the running subgraph said about a candidate schema before a publish:
 * - `served`: it serves every field, argument, input field and enum value the candidate declares;
 * - `missing`: it does not serve some of them yet (deploy it first);
 * - `unreachable`: it did not answer `{ _service { sdl } }` (down, wrong URL, wrong SERVICE_SECRET);
 * - `skipped`: not asked (`--skip-live-check`, or a caller that passed no live options).
 */
export interface LiveCheckResult {
  status: 'served' | 'missing' | 'unreachable' | 'skipped';
  /** The URL asked (the subgraph's routing URL, or its `<NAME>_URL`). */
  url?: string;
  /** Coordinates the candidate declares that the running subgraph does not serve, sorted. */
  missing: string[];
  /** Those of `missing` that the candidate adds (the rest were published before and are still not served). */
  added: string[];
  /** Why it was unreachable: `connection refused`, `HTTP 401: Invalid service credential`, ... */
  error?: string;
  /**
   * Set when the candidate has Subscription fields without `@liveTopic` (and the subgraph
   * answered): whether it serves subscriptions over the transport the gateway will use.
   */
  subscriptions?: SubscriptionProbe;
}

/** What a publish found out by trying the subgraph's own subscriptions. */
export interface SubscriptionProbe {
  /** The candidate's Subscription fields without `@liveTopic`, which the subgraph must serve itself. */
  fields: string[];
  transport: SubscriptionTransport;
  /** Where it was tried: the ws:// or wss:// URL (graphql-ws), or the routing URL (SSE). */
  url: string;
  /** What was tried, for the report. */
  tried: string;
  served: boolean;
  /** Why it is not served: `it closed the connection (4403 Forbidden) before connection_ack`, ... */
  error?: string;
}

export interface LiveCheckOptions {
  /** Where the subgraph runs; default its routing URL in the composition config. */
  url?: string;
  /** A FitSync service credential (`x-fitsync-service-token`): subgraphs answer no one else. */
  serviceToken: () => Promise<string>;
  /** How long to wait for the answer; default 5 s. */
  timeoutMs?: number;
  /**
   * How the gateway subscribes to the subgraph's own Subscription fields (its
   * `<NAME>_SUBSCRIPTIONS`); default the config's `subscriptions:` entry, else graphql-ws.
   */
  subscriptions?: SubscriptionTransport;
}

const SERVICE_TOKEN_HEADER = 'x-fitsync-service-token';
const GRAPHQL_WS_PROTOCOL = 'graphql-transport-ws';
const SERVICE_SDL_QUERY = '{ _service { sdl } }';

/**
 * The schema coordinates a subgraph SDL declares and a router may send it:
 * `Type.field`, `Type.field(arg:)`, `Input.field`, `Enum.VALUE`, from type definitions
 * and extensions alike. Read from the AST, so federation directives need no definitions.
 */
export function declaredCoordinates(sdl: string | DocumentNode): Set<string> {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const out = new Set<string>();
  for (const def of doc.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        for (const f of def.fields ?? []) {
          out.add(`${def.name.value}.${f.name.value}`);
          for (const a of f.arguments ?? []) out.add(`${def.name.value}.${f.name.value}(${a.name.value}:)`);
        }
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        for (const f of def.fields ?? []) out.add(`${def.name.value}.${f.name.value}`);
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        for (const v of def.values ?? []) out.add(`${def.name.value}.${v.name.value}`);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Asks a running subgraph for the SDL it serves; throws an Error saying why when it cannot. */
export async function fetchServedSdl(url: string, opts: Pick<LiveCheckOptions, 'serviceToken' | 'timeoutMs'>): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', [SERVICE_TOKEN_HEADER]: await opts.serviceToken() },
      body: JSON.stringify({ query: SERVICE_SDL_QUERY }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
  } catch (err) {
    throw new Error(networkReason(err, opts.timeoutMs ?? 5_000));
  }
  const text = await res.text();
  let body: { data?: { _service?: { sdl?: unknown } } | null; errors?: { message?: string }[] } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const firstError = body?.errors?.[0]?.message;
  if (!res.ok) throw new Error(`HTTP ${res.status}${firstError ? `: ${firstError}` : ''}`);
  const sdl = body?.data?._service?.sdl;
  if (typeof sdl !== 'string') throw new Error(firstError ? `it answered ${firstError}` : 'its answer has no _service.sdl (is it a federation subgraph?)');
  return sdl;
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is it deployed and listening there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  return e.cause?.message ?? e.message ?? String(err);
}

/** ws:// for http://, wss:// for https://, the same host and path: where the gateway opens graphql-ws. */
export const wsUrlOf = (url: string) => url.replace(/^http(s?):/i, 'ws$1:');

const TRIED: Record<SubscriptionTransport, string> = {
  ws: `a WebSocket with subprotocol ${GRAPHQL_WS_PROTOCOL}, connection_init with the service credential, expecting connection_ack`,
  sse: 'a graphql-sse request (POST, Accept: text/event-stream) of { __typename } with the service credential, expecting an event stream with a next event',
};

/**
 * Tries whether the subgraph at `url` (its routing URL) serves subscriptions the way the
 * gateway will subscribe: graphql-ws at the same path over ws:// (the handshake only, then
 * closes), or graphql-sse at the URL itself. Resolves with why not, or undefined when it does.
 */
export async function probeSubscriptions(
  url: string,
  transport: SubscriptionTransport,
  opts: Pick<LiveCheckOptions, 'serviceToken' | 'timeoutMs'>,
): Promise<string | undefined> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const token = await opts.serviceToken();
  return transport === 'sse' ? probeSse(url, token, timeoutMs) : probeWs(wsUrlOf(url), token, timeoutMs);
}

function probeWs(url: string, token: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let socket: WebSocket;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'probe done');
      else socket.terminate();
      resolve(error);
    };
    const timer = setTimeout(() => done(`no connection_ack within ${timeoutMs} ms`), timeoutMs);
    try {
      socket = new WebSocket(url, GRAPHQL_WS_PROTOCOL, { handshakeTimeout: timeoutMs });
    } catch (err) {
      clearTimeout(timer);
      resolve(err instanceof Error ? err.message : String(err));
      return;
    }
    socket.on('unexpected-response', (req, res) => {
      req.destroy();
      done(`HTTP ${res.statusCode} to the WebSocket upgrade (nothing accepts WebSockets there)`);
    });
    socket.on('error', (err) => done(wsReason(err)));
    socket.on('open', () => {
      if (socket.protocol !== GRAPHQL_WS_PROTOCOL) {
        done(`it accepted the WebSocket with subprotocol ${socket.protocol ? JSON.stringify(socket.protocol) : '(none)'}, not ${GRAPHQL_WS_PROTOCOL}`);
        return;
      }
      socket.send(JSON.stringify({ type: 'connection_init', payload: { [SERVICE_TOKEN_HEADER]: token } }));
    });
    socket.on('message', (data) => {
      let type: unknown;
      try {
        type = (JSON.parse(rawText(data)) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      if (type === 'connection_ack') done();
      else if (type !== 'ping' && type !== 'pong')
        done(`it answered ${typeof type === 'string' ? type : 'something that is not graphql-ws'} instead of connection_ack`);
    });
    socket.on('close', (code, reason) => done(`it closed the connection (${code}${reason.length ? ` ${String(reason)}` : ''}) before connection_ack`));
  });
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return data instanceof ArrayBuffer ? Buffer.from(data).toString('utf8') : data.toString('utf8');
}

function wsReason(err: Error & { code?: string }): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused (is it deployed and listening there?)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'unknown host';
  if (err.code === 'ECONNRESET' || /socket hang up/i.test(err.message))
    return 'it dropped the connection on the WebSocket upgrade (nothing accepts WebSockets there)';
  if (/handshake has timed out/i.test(err.message)) return 'no answer to the WebSocket upgrade in time';
  return err.message;
}

async function probeSse(url: string, token: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', [SERVICE_TOKEN_HEADER]: token },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !type.includes('text/event-stream')) {
      const text = await res.text().catch(() => '');
      let first: string | undefined;
      try {
        first = (JSON.parse(text) as { errors?: { message?: string }[] }).errors?.[0]?.message;
      } catch {
        first = undefined;
      }
      if (res.status === 406) return `HTTP 406: it does not answer Accept: text/event-stream${first ? ` (${first})` : ''}`;
      if (!res.ok) return `HTTP ${res.status}${first ? `: ${first}` : ''}`;
      return `it answered ${type || 'without a content type'}, not an event stream (text/event-stream)`;
    }
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'its event stream ended without a next event';
        seen += decoder.decode(value, { stream: true });
        if (/^event: ?next\r?$/m.test(seen)) return undefined;
        if (seen.length > 65_536) return 'its event stream has no next event in its first 64 KB';
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  } catch (err) {
    return networkReason(err, timeoutMs);
  }
}

/**
 * Compares a candidate subgraph schema with what the subgraph serves at `url`: every
 * coordinate the candidate declares must be served already, or the gateway would route
 * it to a subgraph that rejects it. `publishedSdl` (the schema published so far) tells
 * which missing coordinates the candidate adds.
 */
export async function checkLiveSubgraph(input: {
  url: string;
  candidateSdl: string;
  publishedSdl: string;
  serviceToken: () => Promise<string>;
  timeoutMs?: number;
  /** How the gateway will subscribe to its Subscription fields without `@liveTopic`; default graphql-ws. */
  subscriptions?: SubscriptionTransport;
}): Promise<LiveCheckResult> {
  let served: Set<string>;
  try {
    served = declaredCoordinates(await fetchServedSdl(input.url, input));
  } catch (err) {
    return { status: 'unreachable', url: input.url, missing: [], added: [], error: err instanceof Error ? err.message : String(err) };
  }
  let published: Set<string>;
  try {
    published = declaredCoordinates(input.publishedSdl);
  } catch {
    published = new Set();
  }
  const missing = [...declaredCoordinates(input.candidateSdl)].filter((c) => !served.has(c)).sort();
  const result: LiveCheckResult = { status: missing.length ? 'missing' : 'served', url: input.url, missing, added: missing.filter((c) => !published.has(c)) };
  // No @liveTopic: the gateway will subscribe to the subgraph itself, so it must serve subscriptions.
  const fields = undeclaredSubscriptionFields(input.candidateSdl);
  if (fields.length) {
    const transport = input.subscriptions ?? 'ws';
    const error = await probeSubscriptions(input.url, transport, input);
    result.subscriptions = {
      fields,
      transport,
      url: transport === 'ws' ? wsUrlOf(input.url) : input.url,
      tried: TRIED[transport],
      served: error === undefined,
      ...(error === undefined ? {} : { error }),
    };
  }
  return result;
}

const TRANSPORT_NAME: Record<SubscriptionTransport, string> = { ws: 'graphql-ws', sse: 'SSE (graphql-sse)' };

/** The line about the subgraph's own subscriptions, when it was tried. */
export function formatSubscriptionProbe(subgraph: string, p: SubscriptionProbe): string {
  if (p.served) return `✔ ${subgraph} serves subscriptions over ${TRANSPORT_NAME[p.transport]} at ${p.url}, for ${p.fields.join(', ')}`;
  return (
    `✖ ${subgraph} does not serve subscriptions over ${TRANSPORT_NAME[p.transport]} at ${p.url}: ${p.error}\n` +
    `  tried: ${p.tried}\n` +
    `  ${p.fields.join(', ')} ${p.fields.length === 1 ? 'has' : 'have'} no @liveTopic, so the gateway would subscribe there, and every subscribe would fail`
  );
}

/** One line per finding, for the terminal. */
export function formatLiveCheck(subgraph: string, r: LiveCheckResult): string {
  const sdl = formatServedSdl(subgraph, r);
  return r.subscriptions ? `${sdl}\n${formatSubscriptionProbe(subgraph, r.subscriptions)}` : sdl;
}

function formatServedSdl(subgraph: string, r: LiveCheckResult): string {
  switch (r.status) {
    case 'skipped':
      return `${subgraph}: live check skipped (the running subgraph was not asked what it serves)`;
    case 'served':
      return `✔ ${subgraph} at ${r.url} already serves every field of the candidate schema`;
    case 'unreachable':
      return `✖ ${subgraph} at ${r.url} cannot be asked what it serves: ${r.error}`;
    case 'missing': {
      const old = r.missing.filter((c) => !r.added.includes(c));
      const lines = [`✖ ${subgraph} at ${r.url} does not serve ${r.missing.length} coordinate(s) of the candidate schema yet:`];
      if (r.added.length) lines.push(`  new in this schema: ${r.added.join(', ')}`);
      if (old.length) lines.push(`  published before, still not served: ${old.join(', ')}`);
      return lines.join('\n');
    }
  }
}
