import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeepAliveFetcher } from '../fetcher.js';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
  socket: number;
}

/** A real HTTP server on port 0 that records what it was sent and on which connection. */
async function recordingServer() {
  const seen: Seen[] = [];
  const sockets: object[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (!sockets.includes(req.socket)) sockets.push(req.socket);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body, socket: sockets.indexOf(req.socket) });
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'private, max-age=30');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Path', req.url ?? '');
      res.end(JSON.stringify({ data: { path: req.url } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    seen,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the subgraph fetcher', () => {
  it('sends the method, headers and body given, and reads the answer and its headers case-insensitively', async () => {
    const server = await recordingServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000 });
    cleanups.push(() => fetcher.close());

    const body = JSON.stringify({ query: '{ me { name } }', variables: { é: 'ü' } });
    const res = await fetcher.fetch(`${server.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-service-token': 't' },
      body,
    });

    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/graphql', body });
    expect(server.seen[0].headers).toMatchObject({
      'content-type': 'application/json',
      'x-service-token': 't',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('private, max-age=30');
    expect(res.headers.has('X-PATH')).toBe(true);
    expect(res.headers.get('x-absent')).toBeNull();
    // Repeated headers read as one, comma-joined, as a WHATWG Headers built from them did.
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(Object.fromEntries(res.headers)).toMatchObject({ 'x-path': '/graphql', 'cache-control': 'private, max-age=30' });
    res.headers.set('Idempotent-Replayed', 'true');
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    res.headers.append('x-path', 'again');
    expect(res.headers.get('x-path')).toBe('/graphql, again');
    res.headers.delete('X-Path');
    expect(res.headers.has('x-path')).toBe(false);
    expect(await res.json()).toEqual({ data: { path: '/graphql' } });
  });

  it('keeps each URL apart and reuses one connection for requests one after another', async () => {
    const server = await recordingServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000 });
    cleanups.push(() => fetcher.close());

    const paths = ['/a', '/b', '/a', '/c?x=1', '/b'];
    for (const path of paths) {
      const res = await fetcher.fetch(`${server.base}${path}`, { method: 'POST', body: '{}' });
      expect(await res.json()).toEqual({ data: { path } });
    }
    expect(server.seen.map((s) => s.url)).toEqual(paths);
    expect(new Set(server.seen.map((s) => s.socket))).toEqual(new Set([0]));
  });

  /**
   * A server whose connections are watched: `closedBy` says, once a connection has closed,
   * whether the client ended it (its FIN came first) or the server's own keep-alive timer did.
   */
  async function watchedServer(keepAliveTimeout: number) {
    const closed: { closedBy: 'client' | 'server' }[] = [];
    let onClosed: () => void = () => undefined;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.setHeader('content-type', 'application/json').end('{"data":{}}'));
    });
    server.keepAliveTimeout = keepAliveTimeout;
    server.on('connection', (socket: Socket) => {
      let ended = false;
      socket.on('end', () => (ended = true));
      socket.on('close', () => {
        closed.push({ closedBy: ended ? 'client' : 'server' });
        onClosed();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}/graphql`,
      closed,
      firstClose: () => new Promise<void>((resolve) => (closed.length ? resolve() : (onClosed = resolve))),
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('closes an idle pooled connection before the subgraph does, under what the subgraph announces (Keep-Alive: timeout=2)', async () => {
    // A Node server keeps an idle connection 2 s (announced) + 1 s; the fetcher must close it first,
    // or a request sent as the server closes it gets ECONNRESET (the soak's error answers).
    const server = await watchedServer(2_000);
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000 });
    cleanups.push(() => fetcher.close());

    expect((await fetcher.fetch(server.url, { method: 'POST', body: '{}' })).status).toBe(200);
    await server.firstClose();
    expect(server.closed).toEqual([{ closedBy: 'client' }]);
  });

  it('closes an idle pooled connection after idleTimeoutMs when the subgraph announces no keep-alive timeout', async () => {
    // keepAliveTimeout 0: the server neither announces nor enforces one; without the fetcher's own
    // idle timeout the connection would stay open until the test's own timeout.
    const server = await watchedServer(0);
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, idleTimeoutMs: 200 });
    cleanups.push(() => fetcher.close());

    expect((await fetcher.fetch(server.url, { method: 'POST', body: '{}' })).status).toBe(200);
    await server.firstClose();
    expect(server.closed).toEqual([{ closedBy: 'client' }]);
  });

  /** A server that hangs up on any second request of a connection, unanswered: a pooled connection found closed. */
  async function hangingUpServer() {
    const requests: { socket: number; body: string }[] = [];
    const sockets: Socket[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        if (!sockets.includes(req.socket)) sockets.push(req.socket);
        const socket = sockets.indexOf(req.socket);
        const again = requests.some((r) => r.socket === socket);
        requests.push({ socket, body });
        if (again) req.socket.destroy();
        else res.setHeader('content-type', 'application/json').end(JSON.stringify({ data: { n: requests.length } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}/graphql`,
      requests,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('sends a query once more, on a new connection, when the pooled connection it went out on is hung up on before any answer', async () => {
    const server = await hangingUpServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000 });
    cleanups.push(() => fetcher.close());

    expect(await (await fetcher.fetch(server.url, { method: 'POST', body: '{"query":"{ a }"}' }, undefined, true)).json()).toEqual({ data: { n: 1 } });
    const second = await fetcher.fetch(server.url, { method: 'POST', body: '{"query":"{ b }"}' }, undefined, true);
    expect(await second.json()).toEqual({ data: { n: 3 } });
    expect(server.requests).toEqual([
      { socket: 0, body: '{"query":"{ a }"}' },
      { socket: 0, body: '{"query":"{ b }"}' },
      { socket: 1, body: '{"query":"{ b }"}' },
    ]);
  });

  it('never sends a mutation twice: the hung-up request fails', async () => {
    const server = await hangingUpServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000 });
    cleanups.push(() => fetcher.close());

    await fetcher.fetch(server.url, { method: 'POST', body: '{"query":"{ a }"}' });
    await expect(fetcher.fetch(server.url, { method: 'POST', body: '{"query":"mutation { m }"}' }, undefined, false)).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
    expect(server.requests.map((r) => r.body)).toEqual(['{"query":"{ a }"}', '{"query":"mutation { m }"}']);
  });
});
