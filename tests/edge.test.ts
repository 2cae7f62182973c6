import { demoGym } from '@fitsync/demo-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock } from '@fitsync/service-kit/testing';
import { subscribeWs, until } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.role === 'CLIENT')!;
const SSE = { accept: 'text/event-stream' };

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
      expectCoded(await op({ query: 'query A { __typename } query B { __typename }', operationName: '' }), 400, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);
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
      expectCoded(await post(platform.gatewayUrl, JSON.stringify({ query: 'subscription { notificationAdded { nope } }' }), auth), 400, 'GRAPHQL_VALIDATION_FAILED');
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
});
