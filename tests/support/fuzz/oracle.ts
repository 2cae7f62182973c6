// What every answer of every door must be, whatever was sent (DESIGN.md section 6): never a
// 5xx for a client's request, GraphQL JSON whose errors all carry a known code, and nothing
// of the server's insides (stack, absolute path, database message, internal address).
import { request as httpRequest } from 'node:http';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json?: any;
}

/** The codes of DESIGN.md section 6 and the ones Apollo attaches to request errors. */
export const KNOWN_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'SERVICE_UNAVAILABLE',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'COST_LIMIT_EXCEEDED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'INTERNAL_SERVER_ERROR',
]);

/** What must never be in an answer, by what it would give away. */
export const LEAKS: readonly [string, RegExp][] = [
  ['stack trace', /(?:\n|\\n)\s+at \S|\bat (?:async )?[\w$.<>[\]]+ \((?:file:|\/|node:)/],
  ['absolute path', /\/work\/|\/home\/|\/usr\/(?:lib|local)|node_modules|file:\/\/|\/tmp\/|\/proc\//],
  [
    'database message',
    /syntax error at or near|invalid input syntax|violates [\w-]+ constraint|relation "|column "[^"]*" (?:does not exist|of relation)|invalid byte sequence|out of range for type|value too long for type|date\/time field value out of range|duplicate key value|PGlite|ECONNREFUSED|pg_catalog|SQLSTATE/i,
  ],
  ['internal address', /(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+/],
];

export interface Finding {
  kind: string;
  detail: string;
}

export const leaksIn = (text: string): Finding[] =>
  LEAKS.filter(([, re]) => re.test(text)).map(([kind, re]) => ({ kind: `leak: ${kind}`, detail: excerpt(text, re) }));

function excerpt(text: string, re: RegExp): string {
  const m = re.exec(text);
  if (!m) return text.slice(0, 200);
  return text.slice(Math.max(0, m.index - 80), m.index + 120);
}

export const isGraphQLJson = (contentType: string) => /^application\/(?:graphql-response\+)?json\b/i.test(contentType);

/**
 * The problems of one `/graphql` answer: 5xx, not GraphQL JSON (unless `otherBody` says this
 * request may get something else, e.g. an SSE stream), an error without a known code, an
 * INTERNAL_SERVER_ERROR (for a client's request it is a bug either way), a leak.
 */
export function answerProblems(a: Answer, opts: { otherBody?: (a: Answer) => boolean } = {}): Finding[] {
  const found: Finding[] = [];
  if (a.status >= 500) found.push({ kind: `HTTP ${a.status}`, detail: a.text.slice(0, 300) });
  found.push(...leaksIn(a.text));
  if (opts.otherBody?.(a)) return found;
  if (!isGraphQLJson(a.contentType) || a.json === undefined || a.json === null || typeof a.json !== 'object') {
    found.push({ kind: 'not GraphQL JSON', detail: `${a.status} ${a.contentType}: ${a.text.slice(0, 200)}` });
    return found;
  }
  const errors: unknown = a.json.errors;
  if (errors !== undefined && !Array.isArray(errors)) found.push({ kind: 'malformed errors', detail: a.text.slice(0, 200) });
  if (a.status >= 400 && !(Array.isArray(errors) && errors.length > 0))
    found.push({ kind: 'error status without errors', detail: `${a.status}: ${a.text.slice(0, 200)}` });
  for (const e of Array.isArray(errors) ? errors : []) {
    const code = e?.extensions?.code;
    if (typeof e?.message !== 'string') found.push({ kind: 'error without message', detail: JSON.stringify(e).slice(0, 200) });
    if (typeof code !== 'string') found.push({ kind: 'uncoded error', detail: String(e?.message).slice(0, 200) });
    else if (!KNOWN_CODES.has(code)) found.push({ kind: `unknown code ${code}`, detail: String(e?.message).slice(0, 200) });
    else if (code === 'INTERNAL_SERVER_ERROR') found.push({ kind: 'INTERNAL_SERVER_ERROR', detail: `${a.status} ${JSON.stringify(e).slice(0, 200)}` });
  }
  return found;
}

export interface RawRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * Sends a request exactly as given (node:http, no fetch rules about headers) and reads the
 * answer; an event stream is read for `streamMs` and then dropped (a live subscription never ends).
 */
export function sendRaw(req: RawRequest, opts: { timeoutMs?: number; streamMs?: number } = {}): Promise<Answer> {
  // FUZZ_TRACE=1: every request on stderr before it is sent (to find the one a server chokes on).
  if (process.env.FUZZ_TRACE) process.stderr.write(`> ${req.method} ${req.url.slice(0, 200)} ${req.body?.toString('utf8', 0, 400) ?? ''}\n`);
  return new Promise((resolve, reject) => {
    const r = httpRequest(req.url, { method: req.method, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      const contentType = String(res.headers['content-type'] ?? '');
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, contentType, text, json });
      };
      if (/text\/event-stream/i.test(contentType)) {
        setTimeout(() => {
          res.destroy();
          done();
        }, opts.streamMs ?? 100);
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      res.on('error', () => done());
    });
    const timer = setTimeout(() => {
      r.destroy(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`));
    }, opts.timeoutMs ?? 15_000);
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    r.end(req.body);
  });
}
