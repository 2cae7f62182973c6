import { STATUS_CODES, createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import helmet, { type HelmetOptions } from 'helmet';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export interface Listening {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Who may see `/metrics` and the detail of `/ready`. */
export interface ExposureOptions {
  /** In production, `/metrics` and the detail of `/ready` need `Authorization: Bearer <metricsToken>`; without a token `/metrics` is not served. */
  production?: boolean;
  metricsToken?: string;
}

/**
 * Security headers for a JSON API (helmet): no sniffing, no framing, no referrer, HSTS.
 * In production nothing may load from an answer (`default-src 'none'`); elsewhere the
 * content security policy is left off (GraphiQL, served by the gateway, sets its own on its page and files).
 */
export function securityHeaders(production = false): RequestHandler {
  const headers = fixedHeaders(helmet(securityHeaderPolicy(production)));
  return (_req, res, next) => {
    for (const [name, value] of headers) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}

/** The helmet options of `securityHeaders`. */
export function securityHeaderPolicy(production = false): HelmetOptions {
  return {
    contentSecurityPolicy: production ? { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  };
}

/**
 * What a header middleware does to every answer, read once: helmet with a fixed policy (no
 * nonce, nothing taken from the request) sets the same headers each time, but walks a dozen
 * chained middlewares and re-serialises its policies per request to do so. Replayed as the
 * list of its `setHeader` and `removeHeader` calls (value `undefined`), in its order.
 */
function fixedHeaders(middleware: (req: never, res: never, next: (err?: unknown) => void) => void): Array<[string, string | undefined]> {
  const calls: Array<[string, string | undefined]> = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => calls.push([name, Array.isArray(value) ? value.join(', ') : String(value)]),
    removeHeader: (name: string) => calls.push([name, undefined]),
  };
  let done = false;
  let failed: unknown;
  middleware({ headers: {}, method: 'GET', url: '/' } as never, recorder as never, (err) => {
    failed = err;
    done = true;
  });
  if (!done || failed) throw new Error('the security headers middleware did not finish synchronously', { cause: failed });
  return calls;
}

/** Whether the request may see operational detail: outside production always, in production with the metrics token. */
export function mayInspect(headers: { authorization?: string }, opts: ExposureOptions): boolean {
  if (!opts.production) return true;
  if (!opts.metricsToken) return false;
  const given = Buffer.from(headers.authorization ?? '');
  const wanted = Buffer.from(`Bearer ${opts.metricsToken}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

type ShellOptions = { metrics: Metrics; ready: () => Promise<{ ok: boolean; detail?: unknown }> } & ExposureOptions;

/**
 * The HTTP shell every FitSync process shares: `/health` (the process is up),
 * `/ready` (it can serve: the check passed), `/metrics` (Prometheus). In production the
 * detail of `/ready` and `/metrics` are for the holder of METRICS_TOKEN only.
 */
export function createHttpApp(opts: ShellOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders(opts.production), createShellRouter(opts));
  return app;
}

/**
 * The shell's routes on a router of their own, for an app that sets its own headers first (the
 * gateway): mounted with `app.use`, a router adds one layer to each request where a second
 * Express app would re-enter Express (prototypes swapped on the way in and back on the way out).
 */
export function createShellRouter(opts: ShellOptions): Router {
  const router = express.Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (req, res) => {
    const result = await opts.ready().catch(() => ({ ok: false, detail: 'readiness check failed' }));
    const detail = mayInspect(req.headers, opts) ? result.detail : undefined;
    res.status(result.ok ? 200 : 503).json({ status: result.ok ? 'ready' : 'not ready', ...(detail === undefined ? {} : { detail }) });
  });
  router.get('/metrics', async (req, res, next) => {
    // Not served (the JSON 404 of unknown routes) to whoever does not hold the token.
    if (!mayInspect(req.headers, opts)) return next();
    res.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
  return router;
}

/**
 * Times every request into `metrics.httpDuration`. Mount it before the routes;
 * paths other than `routes` share the label `other`, so scanners cannot blow up
 * the number of series.
 */
export function recordHttpDuration(metrics: Metrics, routes: readonly string[] = ['/graphql', '/health', '/ready', '/metrics']): RequestHandler {
  const known = new Set(routes);
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const path = req.originalUrl.split('?', 1)[0];
      end({ route: known.has(path) ? path : 'other', status: String(res.statusCode) });
    });
    next();
  };
}

/**
 * What Node answers itself, before Express sees a request (headers over its limit, a request
 * that is not HTTP, a client too slow to send its headers), as GraphQL JSON with a code like
 * every other answer, instead of a bare status line.
 */
export function jsonClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are larger than this server accepts']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'The request headers did not arrive in time']
          : [400, 'The request is not well-formed HTTP'];
    const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/** Listens and resolves once bound; port 0 picks a free port (tests). */
export async function listen(server: Server, port: number, host: string, path: string, log: Logger): Promise<Listening> {
  jsonClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const url = `http://${shownHost}:${bound}${path}`;
  log.info({ url }, 'listening');
  return {
    server,
    port: bound,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/**
 * The body of every error answer outside Apollo: GraphQL JSON with a coded error. On Node's
 * response alone (an Express response is one), so a handler in front of Express answers the same.
 * A response already begun cannot change its status: its connection is ended instead.
 */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** Parses JSON bodies up to `limit`; its errors go to `httpErrorHandler` as GraphQL JSON. */
export const jsonBody = (limit: string | number): RequestHandler => express.json({ limit });

/** What body-parser (and http-errors) attach to the errors they raise. */
interface HttpLikeError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  charset?: string;
  encoding?: string;
  limit?: number;
}

/**
 * Request errors raised before GraphQL runs (body parsing, size, charset, encoding) as
 * GraphQL JSON with a code, never Express's HTML page (with its stack trace and paths).
 * A client's mistake gets its 4xx; anything else is a bare 500, logged in full.
 */
export function httpErrorHandler(log?: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = (err ?? {}) as HttpLikeError;
    const status = e.status ?? e.statusCode ?? 500;
    switch (e.type) {
      case 'entity.parse.failed':
        return sendGraphQLError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
      case 'entity.too.large':
        return sendGraphQLError(res, 413, 'PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${e.limit ?? 'this server'} bytes`);
      case 'charset.unsupported':
        return sendGraphQLError(res, 415, 'BAD_REQUEST', `Unsupported charset ${JSON.stringify(e.charset ?? '')}: send the body in UTF-8`);
      case 'encoding.unsupported':
        return sendGraphQLError(res, 415, 'BAD_REQUEST', `Unsupported Content-Encoding ${JSON.stringify(e.encoding ?? '')}: use identity, gzip, deflate or br`);
      case 'request.aborted':
      case 'request.size.invalid':
        return sendGraphQLError(res, 400, 'BAD_REQUEST', 'The request body was incomplete');
    }
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
      return sendGraphQLError(res, status, code, e.expose && err instanceof Error ? err.message : 'Bad request');
    }
    log?.error({ err, path: req.originalUrl.split('?', 1)[0] }, 'unexpected error while handling a request');
    return sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
  };
}

/** Unknown routes: a JSON 404 rather than Express's HTML. */
export function notFoundHandler(): RequestHandler {
  return (_req, res) => sendGraphQLError(res, 404, 'NOT_FOUND', 'No such route: the GraphQL endpoint is /graphql');
}

/** Mount last: unknown routes answer JSON 404, request errors GraphQL JSON. */
export const requestErrorHandlers = (log?: Logger): [RequestHandler, ErrorRequestHandler] => [notFoundHandler(), httpErrorHandler(log)];

export { createServer };
