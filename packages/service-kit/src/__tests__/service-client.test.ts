import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CORRELATION_HEADER, SERVICE_TOKEN_HEADER, createServiceCredentials, createTokenVerifier } from '../auth.js';
import { ServiceClient, serviceOperation, type ServiceClientOptions } from '../service-client.js';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '../testing.js';

type Mode = 'ok' | 'down' | 'hang' | 'not-found' | 'bad-shape';

const PING = serviceOperation<{ id: string }>()('query Ping($id: ID!) { user(id: $id) { id } }', z.object({ user: z.object({ id: z.string() }) }));
const POKE = serviceOperation<{ id: string }>()('mutation Poke($id: ID!) { poke(id: $id) }', z.object({ poke: z.boolean() }));
const caller = { authorization: 'Bearer user-token', correlationId: 'corr-123' };

const codeOf = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphQLError);
  return (err as GraphQLError).extensions.code;
};

describe('ServiceClient', () => {
  let server: Server;
  let url: string;
  let mode: Mode = 'ok';
  let requests: { headers: IncomingHttpHeaders; body: { query: string; variables: Record<string, unknown> } }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        requests.push({ headers: req.headers, body: JSON.parse(raw) });
        const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (mode === 'hang') return;
        if (mode === 'down') return json(503, { errors: [{ message: 'down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
        if (mode === 'not-found') return json(200, { data: null, errors: [{ message: 'User x not found', extensions: { code: 'NOT_FOUND' } }] });
        if (mode === 'bad-shape') return json(200, { data: { user: { name: 'no id' } } });
        return json(200, { data: raw.includes('mutation') ? { poke: true } : { user: { id: 'u1' } } });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    mode = 'ok';
    requests = [];
  });

  const client = (opts: Partial<ServiceClientOptions> = {}) =>
    new ServiceClient({
      from: 'schedule',
      target: 'users',
      url: () => url,
      credentials: createServiceCredentials('schedule', TEST_SERVICE_SECRET),
      backoffMs: 10,
      ...opts,
    });

  it('sends the service credential, the caller identity and correlation id, and returns typed data', async () => {
    const data = await client().call(PING, { id: 'u1' }, caller);
    expect(data).toEqual({ user: { id: 'u1' } });
    const [{ headers, body }] = requests;
    expect(headers.authorization).toBe('Bearer user-token');
    expect(headers[CORRELATION_HEADER]).toBe('corr-123');
    const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET);
    expect(await verifier.verifyService(headers[SERVICE_TOKEN_HEADER] as string)).toBe('schedule');
    expect(body.variables).toEqual({ id: 'u1' });
  });

  it('retries queries with backoff but never mutations', async () => {
    mode = 'down';
    const c = client({ retries: 2 });
    expect(await codeOf(c.call(PING, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
    expect(requests).toHaveLength(3);
    requests = [];
    expect(await codeOf(c.call(POKE, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
    expect(requests).toHaveLength(1);
  });

  it("passes the target's answer about the input through, without retrying or tripping the breaker", async () => {
    mode = 'not-found';
    const c = client({ breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    for (let i = 0; i < 3; i++) expect(await codeOf(c.call(PING, { id: 'x' }, caller))).toBe('NOT_FOUND');
    expect(requests).toHaveLength(3);
    expect(c.circuit).toBe('closed');
  });

  it('gives up at the deadline when the target does not answer', async () => {
    mode = 'hang';
    const started = performance.now();
    expect(await codeOf(client({ timeoutMs: 300 }).call(PING, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('refuses an answer of the wrong shape', async () => {
    mode = 'bad-shape';
    expect(await codeOf(client({ retries: 0 }).call(PING, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
  });

  it('opens the circuit after repeated failures, then fails fast without asking, and closes again once the target answers', async () => {
    mode = 'down';
    const c = client({ retries: 0, breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 300 } });
    for (let i = 0; i < 3; i++) expect(await codeOf(c.call(PING, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
    expect(c.circuit).toBe('open');
    const asked = requests.length;
    const err = await c.call(PING, { id: 'u1' }, caller).catch((e: GraphQLError) => e);
    expect((err as GraphQLError).extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect((err as GraphQLError).message).toMatch(/circuit open/);
    expect(requests).toHaveLength(asked);

    mode = 'ok';
    // After its cool-down the breaker lets one probe through.
    await vi.waitFor(() => expect(c.circuit).toBe('halfOpen'), { timeout: 2_000, interval: 20 });
    expect(await c.call(PING, { id: 'u1' }, caller)).toEqual({ user: { id: 'u1' } });
    expect(c.circuit).toBe('closed');
  });

  it('reports a target that is not listening as unavailable', async () => {
    const c = client({ url: () => 'http://127.0.0.1:1/graphql', retries: 1 });
    expect(await codeOf(c.call(PING, { id: 'u1' }, caller))).toBe('SERVICE_UNAVAILABLE');
  });
});
