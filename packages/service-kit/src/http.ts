import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export interface Listening {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP shell every FitSync process shares: `/health` (the process is up),
 * `/ready` (it can serve: the check passed), `/metrics` (Prometheus).
 */
export function createHttpApp(opts: { metrics: Metrics; ready: () => Promise<{ ok: boolean; detail?: unknown }> }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const result = await opts.ready().catch((err: Error) => ({ ok: false, detail: err.message }));
    res.status(result.ok ? 200 : 503).json({ status: result.ok ? 'ready' : 'not ready', detail: result.detail });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
  return app;
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

/** Listens and resolves once bound; port 0 picks a free port (tests). */
export async function listen(server: Server, port: number, host: string, path: string, log: Logger): Promise<Listening> {
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

export { createServer };
