import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, createShellRouter, securityHeaderPolicy, securityHeaders } from '../http.js';
import { createMetrics } from '../metrics.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(app: express.Express): Promise<string> {
  const server = createServer(app).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The headers an app answers `GET /x` with, but the ones that change per answer. */
async function headersOf(headerMiddleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.disable('x-powered-by');
  app.use(headerMiddleware);
  app.get('/x', (_req, res) => void res.json({ ok: true }));
  const answer = await fetch(`${await serve(app)}/x`);
  const headers = Object.fromEntries(answer.headers);
  delete headers.date;
  return headers;
}

describe('securityHeaders', () => {
  for (const production of [false, true]) {
    it(`sets exactly the headers helmet sets with the same policy (production ${production}), read once instead of per request`, async () => {
      const ours = await headersOf(securityHeaders(production));
      const helmets = await headersOf(helmet(securityHeaderPolicy(production)));
      expect(ours).toEqual(helmets);
      expect(ours['x-content-type-options']).toBe('nosniff');
      expect(ours['referrer-policy']).toBe('no-referrer');
      expect(ours['strict-transport-security']).toMatch(/^max-age=\d+/);
      if (production) expect(ours['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      else expect(ours['content-security-policy']).toBeUndefined();
    });
  }

  it('removes what helmet removes (X-Powered-By), even when a handler before it set it', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('x-powered-by', 'something');
      next();
    });
    app.use(securityHeaders());
    app.get('/x', (_req, res) => void res.json({ ok: true }));
    const answer = await fetch(`${await serve(app)}/x`);
    expect(answer.headers.get('x-powered-by')).toBeNull();
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('createShellRouter', () => {
  it('serves /health, /ready and /metrics mounted on an app of its own, and leaves the rest to the routes after it', async () => {
    const app = express();
    app.use(createShellRouter({ metrics: createMetrics('shell-router-test'), ready: async () => ({ ok: false, detail: { database: 'down' } }) }));
    app.get('/after', (_req, res) => void res.json({ after: true }));
    const base = await serve(app);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', detail: { database: 'down' } });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
    expect(await (await fetch(`${base}/after`)).json()).toEqual({ after: true });
  });

  it('is what createHttpApp serves, behind the security headers', async () => {
    const base = await serve(createHttpApp({ metrics: createMetrics('http-app-test'), ready: async () => ({ ok: true }), production: true }));
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(health.headers.get('etag')).toBeNull();
    // Production without a metrics token: /metrics is not served.
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});
