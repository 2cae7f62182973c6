import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeepAliveFetcher, SUBGRAPH_CLIENTS, SubgraphTimeoutError, type SubgraphClient } from '../fetcher.js';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
  socket: number;
}

/**
 * A real HTTP server on port 0 that records what it was sent and on which connection. `behave`
 * may take over an answer (hold it, reset the connection...): it returns true when it did.
 */
async function recordingServer(behave?: (seen: Seen, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean) {
  const seen: Seen[] = [];
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (!sockets.includes(req.socket)) {
        sockets.push(req.socket);
        closed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
      }
      const entry = { method: req.method, url: req.url, headers: req.headers, body, socket: sockets.indexOf(req.socket) };
      seen.push(entry);
      if (behave?.(entry, req, res)) return;
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
    /** Resolves when the server's end of the n-th connection (0-based) has closed. */
    socketClosed: (n: number) => closed[n],
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

describe.each(SUBGRAPH_CLIENTS)('the subgraph fetcher on %s', (client: SubgraphClient) => {
  it('sends the method, headers and body given, and reads the answer and its headers case-insensitively', async () => {
    const server = await recordingServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
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
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
    cleanups.push(() => fetcher.close());

    const paths = ['/a', '/b', '/a', '/c?x=1', '/b'];
    for (const path of paths) {
      const res = await fetcher.fetch(`${server.base}${path}`, { method: 'POST', body: '{}' });
      expect(await res.json()).toEqual({ data: { path } });
    }
    expect(server.seen.map((s) => s.url)).toEqual(paths);
    // undici's pool sends the next request on a second connection while the first is still
    // marked busy (it clears that on its 'drain'), then goes back and forth between the two.
    expect(new Set(server.seen.map((s) => s.socket))).toEqual(new Set(client === 'undici' ? [0, 1] : [0]));
  });
  it('keeps up to maxSockets connections for requests at the same time, and reuses them after', async () => {
    const server = await recordingServer();
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, maxSockets: 3, client });
    cleanups.push(() => fetcher.close());

    const answers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => fetcher.fetch(`${server.base}/p${n}`, { method: 'POST', body: '{}' }).then((r) => r.json())),
    );
    expect(answers.map((a) => a.data.path)).toEqual(['/p1', '/p2', '/p3', '/p4', '/p5', '/p6']);
    await fetcher.fetch(`${server.base}/again`, { method: 'POST', body: '{}' });
    expect(new Set(server.seen.map((s) => s.socket)).size).toBeLessThanOrEqual(3);
  });

  it('fails a request the subgraph takes in but never answers with SubgraphTimeoutError at its deadline, and closes that connection', async () => {
    const server = await recordingServer(() => true);
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
    cleanups.push(() => fetcher.close());

    const failed = await fetcher.fetch(`${server.base}/graphql`, { method: 'POST', body: '{"query":"{ a }"}' }, 50).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SubgraphTimeoutError);
    expect(failed).toMatchObject({ code: 'ETIMEDOUT', message: expect.stringContaining(`no answer from ${server.base} within 50 ms`) });
    expect(server.seen).toHaveLength(1);
    // The request is aborted, not left on the socket: the server sees its connection end.
    await server.socketClosed(0);
  });

  it('fails an answer that stops halfway with SubgraphTimeoutError at the deadline', async () => {
    const server = await recordingServer((_seen, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"data":');
      return true;
    });
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 50, client });
    cleanups.push(() => fetcher.close());

    await expect(fetcher.fetch(`${server.base}/graphql`, { method: 'POST', body: '{}' })).rejects.toMatchObject({
      name: 'SubgraphTimeoutError',
      code: 'ETIMEDOUT',
    });
    await server.socketClosed(0);
  });

  it('fails at the deadline on a TCP socket that accepts and never answers, and hangs up', async () => {
    const accepted: Socket[] = [];
    let gone!: () => void;
    const hungUp = new Promise<void>((resolve) => (gone = resolve));
    const tcp = createTcpServer((socket) => {
      accepted.push(socket);
      socket.resume(); // reads what comes (and so sees the client hang up), answers nothing
      socket.on('close', () => gone());
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (accepted.forEach((s) => s.destroy()), tcp.close(() => resolve()))));
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
    cleanups.push(() => fetcher.close());

    const { port } = tcp.address() as { port: number };
    await expect(fetcher.fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', body: '{}' }, 60)).rejects.toBeInstanceOf(SubgraphTimeoutError);
    expect(accepted).toHaveLength(1);
    await hungUp;
  });

  it('fails a request whose connection is reset, sends that POST only once, and serves the next on a new connection', async () => {
    const server = await recordingServer((seen, req) => {
      if (seen.url !== '/reset') return false;
      req.socket.resetAndDestroy();
      return true;
    });
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
    cleanups.push(() => fetcher.close());

    const mutation = JSON.stringify({ query: 'mutation { createBooking(input: { slot: "s1" }) { id } }' });
    const failed = await fetcher.fetch(`${server.base}/reset`, { method: 'POST', body: mutation }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(SubgraphTimeoutError);
    // Whatever was sent before the failure was reported has arrived by the time a later request is answered.
    const next = await fetcher.fetch(`${server.base}/after`, { method: 'POST', body: '{}' });
    expect(await next.json()).toEqual({ data: { path: '/after' } });
    expect(server.seen.map((s) => [s.url, s.body])).toEqual([
      ['/reset', mutation],
      ['/after', '{}'],
    ]);
    expect(server.seen[1].socket).toBe(1);
  });

  it('never sends a request whose deadline passed while it waited for a connection', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = await recordingServer((seen, _req, res) => {
      if (seen.url !== '/held') return false;
      void held.then(() => res.end('{"data":{"path":"/held"}}'));
      return true;
    });
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, maxSockets: 1, client });
    cleanups.push(() => fetcher.close());

    const first = fetcher.fetch(`${server.base}/held`, { method: 'POST', body: '{}' });
    const queued = fetcher.fetch(`${server.base}/queued`, { method: 'POST', body: 'mutation' }, 50);
    await expect(queued).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    release();
    expect(await (await first).json()).toEqual({ data: { path: '/held' } });
    const last = await fetcher.fetch(`${server.base}/last`, { method: 'POST', body: '{}' });
    expect(await last.json()).toEqual({ data: { path: '/last' } });
    expect(server.seen.map((s) => s.url)).toEqual(['/held', '/last']);
  });

  it('reads a non-2xx answer whole, with its status', async () => {
    const server = await recordingServer((_seen, _req, res) => {
      res.writeHead(503, 'Busy', { 'content-type': 'application/json' });
      res.end('{"errors":[{"message":"busy"}]}');
      return true;
    });
    cleanups.push(server.close);
    const fetcher = createKeepAliveFetcher({ timeoutMs: 5_000, client });
    cleanups.push(() => fetcher.close());

    const res = await fetcher.fetch(`${server.base}/graphql`, { method: 'POST', body: '{}' });
    expect([res.status, res.ok, res.statusText]).toEqual([503, false, 'Busy']);
    expect(await res.clone().text()).toBe('{"errors":[{"message":"busy"}]}');
    expect(await res.json()).toEqual({ errors: [{ message: 'busy' }] });
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
