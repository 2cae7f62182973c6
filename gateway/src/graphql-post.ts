import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { sendGraphQLError, type Logger, type Metrics } from '@fitsync/service-kit';
import type { RequestHandler } from 'express';
import proxyAddr from 'proxy-addr';
import type { GatewayContext } from './context.js';
import type { DocumentGate } from './trusted/registry.js';
import { trustedPostBody } from './trusted/http.js';

/** `application/json`, with no charset or UTF-8 (body-parser reads nothing else as JSON without a conversion). */
const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
/** body-parser's strict JSON: the first character that is not JSON whitespace opens an object or an array. */
const FIRST_CHARACTER = /^[ \t\n\r]*(.)/;

export interface PostLaneDeps {
  apollo: ApolloServer<GatewayContext>;
  /** The context function Apollo's Express integration is given (`createContext`). */
  context: (args: { req: { headers: IncomingMessage['headers']; ip?: string; socket?: { remoteAddress?: string } } }) => Promise<GatewayContext>;
  gate: DocumentGate;
  /** The body limit, in bytes (what `jsonBody` is given). */
  limit: number;
  /** The middlewares every answer goes through before the routes, that use nothing of Express and pass a POST on at once: correlation id, security headers, CORS. */
  before: RequestHandler[];
  /** Express's compiled `trust proxy` (`app.get('trust proxy fn')`): `req.ip` as Express computes it. */
  trustProxy: Parameters<typeof proxyAddr>[1];
  metrics: Metrics;
  log: Logger;
}

/**
 * The common case of `/graphql` without Express: a POST of a UTF-8 JSON body of known length,
 * uncompressed, that is not a subscription over SSE. It goes through the same steps as the
 * Express chain (timing, correlation id, security headers, the body limit, body-parser's strict
 * JSON, the trusted-documents rule, Apollo with the same context) and answers the same, at
 * less cost per request: Express's router, body-parser (with type-is and iconv-lite) and the
 * Apollo integration were about 13% of the gateway's CPU on `{ me { name } }`. Anything else
 * (another method, path or content type, a compressed or chunked body, an empty one, one over
 * the limit, or SSE) is left to Express: returns false.
 */
export function graphqlPostLane(deps: PostLaneDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const length = postLaneLength(req, deps.limit);
    if (length === undefined) return false;
    serve(deps, req, res, length).catch((err: unknown) => {
      deps.log.error({ err, path: '/graphql' }, 'unexpected error while handling a request');
      sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    });
    return true;
  };
}

/** The body length of a request the lane takes, or undefined for one it leaves to Express. */
export function postLaneLength(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, limit: number): number | undefined {
  if (req.method !== 'POST' || req.url !== '/graphql') return undefined;
  const headers = req.headers;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
  if (!JSON_TYPE.test(headers['content-type'] ?? '') || headers.accept?.includes('text/event-stream')) return undefined;
  const length = Number(headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 && length <= limit ? length : undefined;
}

async function serve(deps: PostLaneDeps, req: IncomingMessage, res: ServerResponse, length: number) {
  const end = deps.metrics.httpDuration.startTimer();
  res.once('finish', () => end({ route: '/graphql', status: String(res.statusCode) }));
  for (const middleware of deps.before) {
    let passed = false;
    middleware(req as never, res as never, () => (passed = true));
    // Each of them passes a POST on at once (see `before` in server.ts); one that did not would
    // be answering it, and the lane must not answer too.
    if (!passed) throw new Error('a middleware in front of the /graphql POST lane did not pass the request on');
  }

  const text = await readBody(req, length);
  if (text === undefined) return sendGraphQLError(res, 400, 'BAD_REQUEST', 'The request body was incomplete');
  // body-parser: a byte order mark is dropped, the first character must open an object or an array.
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = FIRST_CHARACTER.exec(json)?.[1];
  let body: unknown;
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not an object or an array');
    body = JSON.parse(json);
  } catch {
    return sendGraphQLError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
  }

  const resolved = trustedPostBody(deps.gate, body, 'http');
  if (!resolved.ok) return sendGraphQLError(res, resolved.status, resolved.code, resolved.message);

  const httpHeaders = new HeaderMap();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) httpHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const ip = proxyAddr(req, deps.trustProxy);
  const answer = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'POST', headers: httpHeaders, search: '', body: resolved.body },
    context: () => deps.context({ req: { headers: req.headers, ip, socket: req.socket } }),
  });
  for (const [name, value] of answer.headers) res.setHeader(name, value);
  res.statusCode = answer.status ?? 200;
  if (answer.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(answer.body.string));
    res.end(answer.body.string);
    return;
  }
  for await (const chunk of answer.body.asyncIterator) res.write(chunk);
  res.end();
}

/** The body, `length` bytes of UTF-8; undefined when the client went before sending them all. */
function readBody(req: IncomingMessage, length: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => resolve(received === length ? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8') : undefined));
    // Gone before the end (a client that hung up): nothing to parse.
    req.once('close', () => resolve(undefined));
    req.once('error', reject);
  });
}
