import { connect } from 'node:net';
import { demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock } from '@fitsync/service-kit/testing';
import { subscribeWs, until } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.role === 'CLIENT')!;
const SSE = { accept: 'text/event-stream' };
const METRICS_TOKEN = 'edge-test-metrics-token-0123456789';

interface Answer {
  status: number;
  type: string;
  text: string;
  json: any;
}

async function send(url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  send(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

/** A GraphQL JSON error answer with this status and code, with nothing of the server's insides. */
function expectCoded(answer: Answer, status: number | number[], codes: string | string[]) {
  expect([status].flat()).toContain(answer.status);
  expect(answer.type).toMatch(/^application\/(graphql-response\+)?json/);
  expect(answer.json?.errors?.length, answer.text).toBeGreaterThan(0);
  expect([codes].flat()).toContain(answer.json.errors[0].extensions?.code);
  expect(answer.text).not.toMatch(/<html|<pre>|\s+at \w|node_modules|\/work\/|file:\/\//i);
}

describe('every door answers bad input cleanly', () => {
  let platform: Platform;
  let doors: [string, string][];
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    doors = [
      ['gateway', platform.gatewayUrl],
      ['users subgraph', platform.subgraphs.users.url],
    ];
  });
  afterAll(async () => {
    await platform?.close();
  });

  describe('body and request errors are GraphQL JSON, at the gateway and at a subgraph (before its credential check)', () => {
    it('malformed JSON: 400 BAD_REQUEST', async () => {
      for (const [, url] of doors) expectCoded(await post(url, '{"query": "{ me { id } "'), 400, 'BAD_REQUEST');
    });
    it('a body over the limit: 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(6 * 1024 * 1024) } });
      for (const [, url] of doors) expectCoded(await post(url, big), 413, 'PAYLOAD_TOO_LARGE');
    });
    it('an unknown charset: 415 BAD_REQUEST', async () => {
      for (const [, url] of doors) {
        expectCoded(await post(url, '{"query":"{ __typename }"}', { 'content-type': 'application/json; charset=klingon' }), [400, 415], 'BAD_REQUEST');
      }
    });
    it('an unknown Content-Encoding: 415 BAD_REQUEST', async () => {
      for (const [, url] of doors) {
        expectCoded(await post(url, '{"query":"{ __typename }"}', { 'content-encoding': 'x-squash' }), [400, 415], 'BAD_REQUEST');
      }
    });
    it('headers over the server limit: 431 BAD_REQUEST in GraphQL JSON (Node answers it before Express)', async () => {
      for (const [, url] of doors) expectCoded(await post(url, '{"query":"{ __typename }"}', { 'x-padding': 'a'.repeat(20_000) }), 431, 'BAD_REQUEST');
    });
    it('a request that is not HTTP: 400 BAD_REQUEST in GraphQL JSON', async () => {
      for (const [, url] of doors) {
        const { hostname, port } = new URL(url);
        const text = await new Promise<string>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
          let got = '';
          socket.on('data', (chunk) => (got += chunk.toString()));
          socket.on('end', () => resolve(got));
          socket.on('error', reject);
        });
        const [head, body] = text.split('\r\n\r\n');
        expect(head).toMatch(/^HTTP\/1\.1 400 /);
        expect(head).toMatch(/content-type: application\/json/i);
        expect(JSON.parse(body)).toEqual({ errors: [{ message: 'The request is not well-formed HTTP', extensions: { code: 'BAD_REQUEST' } }] });
      }
    });
    it('unknown routes: JSON 404', async () => {
      for (const [, url] of doors) expectCoded(await send(new URL('/no/such/route', url).href, { method: 'GET' }), 404, 'NOT_FOUND');
    });
  });

  describe('no 500 for client mistakes', () => {
    const op = (body: Record<string, unknown>) => post(platform.gatewayUrl, JSON.stringify(body));
    it('two operations without operationName', async () => {
      expectCoded(await op({ query: 'query A { __typename } query B { __typename }' }), 400, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);
    });
    it('an unknown operationName', async () => {
      expectCoded(await op({ query: 'query A { __typename }', operationName: 'Nope' }), 400, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);
    });
    it('an empty operationName', async () => {
      expectCoded(await op({ query: 'query A { __typename } query B { __typename }', operationName: '' }), 400, [
        'OPERATION_RESOLUTION_FAILURE',
        'BAD_REQUEST',
      ]);
    });
    it('a subscription as a plain POST', async () => {
      expectCoded(await op({ query: 'subscription { notificationAdded { id } }' }), 400, 'BAD_REQUEST');
    });
    it('a persisted-query hash that does not match its query', async () => {
      const answer = await op({
        query: '{ __typename }',
        extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } },
      });
      expectCoded(answer, 400, ['BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND']);
    });
  });

  describe('the same body limit and coded errors over SSE and WebSocket', () => {
    it('an SSE body over the limit is refused with 413 before it is parsed or the token checked', async () => {
      const big = JSON.stringify({ query: 'subscription { notificationAdded { id } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
      expectCoded(await post(platform.gatewayUrl, big, SSE), 413, 'PAYLOAD_TOO_LARGE');
    });
    it('malformed JSON over SSE: 400 BAD_REQUEST', async () => {
      expectCoded(await post(platform.gatewayUrl, '{"query": "subscription {', SSE), 400, 'BAD_REQUEST');
    });
    it('an SSE request without a query, or not in JSON: coded', async () => {
      const token = await platform.tokenFor(client);
      const auth = { ...SSE, authorization: `Bearer ${token}` };
      expectCoded(await post(platform.gatewayUrl, '{}', auth), 400, 'BAD_REQUEST');
      expectCoded(await post(platform.gatewayUrl, 'query=x', { ...auth, 'content-type': 'text/plain' }), 415, 'BAD_REQUEST');
    });
    it('a query over SSE, an invalid subscription and an unknown operation: coded 400s', async () => {
      const token = await platform.tokenFor(client);
      const auth = { ...SSE, authorization: `Bearer ${token}` };
      expectCoded(await post(platform.gatewayUrl, JSON.stringify({ query: '{ me { id } }' }), auth), 400, 'BAD_USER_INPUT');
      expectCoded(
        await post(platform.gatewayUrl, JSON.stringify({ query: 'subscription { notificationAdded { nope } }' }), auth),
        400,
        'GRAPHQL_VALIDATION_FAILED',
      );
      expectCoded(await post(platform.gatewayUrl, JSON.stringify({ query: 'subscription {' }), auth), 400, 'GRAPHQL_PARSE_FAILED');
      const unknown = JSON.stringify({ query: 'subscription A { notificationAdded { id } }', operationName: 'B' });
      expectCoded(await post(platform.gatewayUrl, unknown, auth), 400, 'OPERATION_RESOLUTION_FAILURE');
    });
    it('graphql-ws: subscribe-time validation errors carry a code', async () => {
      const token = await platform.tokenFor(client);
      const sub = subscribeWs(platform.gatewayUrl, token, 'subscription { notificationAdded { nope } }');
      try {
        await until(() => sub.errors.length > 0, 5_000, 'the subscription to be refused');
        const errors = sub.errors[0] as { message: string; extensions?: { code?: string } }[];
        expect(Array.isArray(errors)).toBe(true);
        expect(errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      } finally {
        await sub.dispose();
      }
    });
  });

  describe('operation limits (GraphQL Armor and the token limit), from the environment, on every transport', () => {
    it('a 760 KB document of 190,000 duplicate arguments is refused by the token limit: a small answer, soon, and /health still answers', async () => {
      const document = `{ me(${'a:1 '.repeat(190_000)}) { id } }`;
      expect(document.length).toBeGreaterThan(750_000);
      const started = performance.now();
      const [answer, health] = await Promise.all([
        post(platform.gatewayUrl, JSON.stringify({ query: document })),
        send(new URL('/health', platform.gatewayUrl).href, { method: 'GET' }),
      ]);
      const elapsed = performance.now() - started;
      expectCoded(answer, 400, 'GRAPHQL_PARSE_FAILED');
      expect(answer.json.errors).toHaveLength(1);
      expect(answer.text.length).toBeLessThan(2_000);
      expect(answer.json.errors[0].message).toMatch(/contains more th\w+ 5000 tokens/);
      // Generous: the refusal happens in the lexer, well before any validation.
      expect(elapsed).toBeLessThan(3_000);
      expect(health.status).toBe(200);
    });

    describe('a gateway with MAX_ALIASES=1, MAX_DIRECTIVES=1, MAX_TOKENS=100, MAX_ERRORS=5, METRICS_TOKEN and CORS_ORIGINS in production', () => {
      let url: string;
      let token: string;
      beforeAll(async () => {
        const gateway = await platform.startGateway(
          {},
          {
            NODE_ENV: 'production',
            MAX_ALIASES: '1',
            MAX_DIRECTIVES: '1',
            MAX_TOKENS: '100',
            MAX_ERRORS: '5',
            METRICS_TOKEN: METRICS_TOKEN,
            CORS_ORIGINS: 'https://app.fitsync.test, https://admin.fitsync.test',
            // Production enforces the trusted documents; these limits are about ad-hoc documents.
            TRUSTED_DOCUMENTS: 'allow',
          },
        );
        url = gateway.url;
        token = await platform.tokenFor(client);
      });
      const op = (query: string) => post(url, JSON.stringify({ query }), { authorization: `Bearer ${token}` });

      it('refuses aliases and directives over the limit', async () => {
        expect((await op('{ a: me { id } }')).json.errors).toBeUndefined();
        const aliases = await op('{ a: me { id } b: me { id } }');
        expectCoded(aliases, 400, 'GRAPHQL_VALIDATION_FAILED');
        expect(aliases.json.errors[0].message).toBe('The operation uses more than 1 aliases');
        const directives = await op('{ me @include(if: true) { id @skip(if: false) } }');
        expectCoded(directives, 400, 'GRAPHQL_VALIDATION_FAILED');
        expect(directives.json.errors[0].message).toBe('The operation uses more than 1 directives');
      });

      it('refuses a document over MAX_TOKENS over HTTP, SSE and WebSocket', async () => {
        const long = `subscription { notificationAdded { ${'id '.repeat(120)}} }`;
        expectCoded(await op(long), 400, 'GRAPHQL_PARSE_FAILED');
        expectCoded(await post(url, JSON.stringify({ query: long }), { ...SSE, authorization: `Bearer ${token}` }), 400, 'GRAPHQL_PARSE_FAILED');
        const sub = subscribeWs(url, token, long);
        try {
          await until(() => sub.errors.length > 0, 5_000, 'the subscription to be refused');
          const errors = sub.errors[0] as { message: string; extensions?: { code?: string } }[];
          expect(errors[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
          expect(errors[0].message).toMatch(/contains more th\w+ 100 tokens/);
        } finally {
          await sub.dispose();
        }
      });

      it('answers at most MAX_ERRORS errors, and no field suggestions in production', async () => {
        const answer = await op(`{ ${Array.from({ length: 20 }, (_, i) => `mee${i}`).join(' ')} }`);
        expectCoded(answer, 400, 'GRAPHQL_VALIDATION_FAILED');
        expect(answer.json.errors).toHaveLength(5);
        expect(answer.text).not.toMatch(/Did you mean/);
        const dev = await post(platform.gatewayUrl, JSON.stringify({ query: '{ mee }' }));
        expect(dev.text).toMatch(/Did you mean/);
      });

      it('serves /metrics and the detail of /ready only with METRICS_TOKEN', async () => {
        const at = (path: string, headers: Record<string, string> = {}) => send(new URL(path, url).href, { method: 'GET', headers });
        expectCoded(await at('/metrics'), 404, 'NOT_FOUND');
        expectCoded(await at('/metrics', { authorization: 'Bearer wrong-token-of-the-same-size-xx' }), 404, 'NOT_FOUND');
        const metrics = await at('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
        expect(metrics.status).toBe(200);
        expect(metrics.text).toMatch(/fitsync_/);
        const ready = await at('/ready');
        expect(ready.status).toBe(200);
        expect(ready.json).toEqual({ status: 'ready' });
        expect(ready.text).not.toMatch(/127\.0\.0\.1|graphql|\//);
        expect((await at('/ready', { authorization: `Bearer ${METRICS_TOKEN}` })).json.detail.subgraphs.users).toBe('up');
      });

      it('answers CORS for the allowed origins only, and a strict content security policy', async () => {
        const preflight = (origin: string) =>
          fetch(url, {
            method: 'OPTIONS',
            headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
          });
        const allowed = await preflight('https://admin.fitsync.test');
        expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.fitsync.test');
        expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
        expect(allowed.headers.get('access-control-allow-headers')).toMatch(/traceparent/);
        const other = await preflight('https://evil.example');
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
        const answer = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: 'https://app.fitsync.test' },
          body: '{"query":"{ __typename }"}',
        });
        expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.fitsync.test');
        expect(answer.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      });
    });
  });

  describe('headers and exposure', () => {
    it('security headers on every answer, at the gateway and at a subgraph, errors included', async () => {
      for (const [, url] of doors) {
        for (const answer of [
          await fetch(new URL('/health', url)),
          await fetch(new URL('/no/such/route', url)),
          await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
        ]) {
          expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
          expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
          expect(answer.headers.get('strict-transport-security')).toMatch(/max-age=/);
          expect(answer.headers.get('x-powered-by')).toBeNull();
        }
      }
    });
    it('no CORS headers by default (CORS_ORIGINS unset)', async () => {
      const preflight = await fetch(platform.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.fitsync.test', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});
