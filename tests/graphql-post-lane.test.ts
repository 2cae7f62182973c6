// The /graphql POST lane (gateway/src/graphql-post.ts) answers what the Express chain answers:
// the same request sent both ways (Express taken with `Content-Encoding: identity`, which the
// lane leaves to it) gets the same status, body and headers.
import { createHash } from 'node:crypto';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { demoGym } from '@fitsync/demo-data';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLaneLength } from '../gateway/src/graphql-post.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.role === 'CLIENT')!;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const VARYING = new Set(['date', 'x-correlation-id', 'connection', 'keep-alive']);
const EXPRESS = { 'content-encoding': 'identity' };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe('postLaneLength: which requests the lane takes', () => {
  const limit = 1024;
  const req = (over: { method?: string; url?: string; headers?: Record<string, string> } = {}) => ({
    method: over.method ?? 'POST',
    url: over.url ?? '/graphql',
    headers: { 'content-type': 'application/json', 'content-length': '20', ...over.headers },
  });

  it('takes a POST of a UTF-8 JSON body of known length', () => {
    expect(postLaneLength(req(), limit)).toBe(20);
    expect(postLaneLength(req({ headers: { 'content-type': 'application/json; charset=utf-8' } }), limit)).toBe(20);
    expect(postLaneLength(req({ headers: { 'content-type': 'Application/JSON;charset="UTF-8"' } }), limit)).toBe(20);
    expect(postLaneLength(req({ headers: { 'content-length': String(limit) } }), limit)).toBe(limit);
  });

  it.each([
    ['a GET', req({ method: 'GET' })],
    ['another path', req({ url: '/unsubscribe' })],
    ['a query string', req({ url: '/graphql?x=1' })],
    ['another content type', req({ headers: { 'content-type': 'text/plain' } })],
    ['another charset', req({ headers: { 'content-type': 'application/json; charset=latin1' } })],
    ['a compressed body', req({ headers: { 'content-encoding': 'gzip' } })],
    ['an identity content encoding', req({ headers: EXPRESS })],
    ['a chunked body', req({ headers: { 'transfer-encoding': 'chunked' } })],
    ['no length', { method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' } }],
    ['an empty body', req({ headers: { 'content-length': '0' } })],
    ['a body over the limit', req({ headers: { 'content-length': String(limit + 1) } })],
    ['a subscription over SSE', req({ headers: { accept: 'text/event-stream' } })],
  ])('leaves %s to Express', (_what, request) => {
    expect(postLaneLength(request, limit)).toBeUndefined();
  });
});

async function postTo(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const answer = { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  for (const name of VARYING) delete answer.headers[name];
  return answer;
}
/** The same request through the lane and through Express: both answers, which must be equal. */
async function bothWaysTo(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const lane = await postTo(url, body, headers);
  const express = await postTo(url, body, { ...headers, ...EXPRESS });
  expect(lane).toEqual(express);
  return lane;
}
/** Who served a plain POST and one Express must take: the lane answers on Node's own ServerResponse. */
async function whoServes(gateway: Platform['gateway'], url: string): Promise<string[]> {
  const seen: ServerResponse[] = [];
  const spy = (_req: IncomingMessage, res: ServerResponse) => void seen.push(res);
  gateway.server.on('request', spy);
  try {
    await postTo(url, JSON.stringify({ query: '{ __typename }' }));
    await postTo(url, JSON.stringify({ query: '{ __typename }' }), EXPRESS);
  } finally {
    gateway.server.off('request', spy);
  }
  return seen.map((res) => (Object.getPrototypeOf(res) === ServerResponse.prototype ? 'lane' : 'express'));
}

describe('the /graphql POST lane and the Express chain answer alike', () => {
  let platform: Platform;
  let token: string;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    token = await platform.tokenFor(client);
  });
  afterAll(async () => {
    await platform?.close();
  });

  const post = (body: string, headers: Record<string, string> = {}) => postTo(platform.gatewayUrl, body, headers);
  const bothWays = (body: string, headers: Record<string, string> = {}) => bothWaysTo(platform.gatewayUrl, body, headers);

  it('takes the common POST itself, and leaves the rest to Express (which gives each response its own prototype)', async () => {
    expect(await whoServes(platform.gateway, platform.gatewayUrl)).toEqual(['lane', 'express']);
  });

  it('serves an operation with the same answer and headers', async () => {
    const answer = await bothWays(JSON.stringify({ query: '{ me { name } }' }), { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toEqual({ me: { name: client.name } });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['content-type']).toMatch(/^application\/(graphql-response\+)?json; charset=utf-8$/);
  });

  it('keeps the caller’s correlation id', async () => {
    const res = await fetch(platform.gatewayUrl, {
      method: 'POST',
      body: JSON.stringify({ query: '{ __typename }' }),
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'lane-test-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('lane-test-1');
  });

  it.each([
    ['malformed JSON', '{"query": '],
    ['JSON that is not an object or an array', '"{ __typename }"'],
    ['a number', '42'],
  ])('refuses %s the same way: 400 BAD_REQUEST', async (_what, body) => {
    const answer = await bothWays(body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('reads a body that starts with a byte order mark, as body-parser does', async () => {
    const answer = await bothWays(`\ufeff${JSON.stringify({ query: '{ __typename }' })}`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toEqual({ __typename: 'Query' });
  });

  it('passes a batch (an array) to Apollo, which refuses it the same way', async () => {
    const answer = await bothWays(JSON.stringify([{ query: '{ __typename }' }]));
    expect(answer.status).toBe(400);
  });

  it('refuses a bad token and an invalid operation the same way', async () => {
    const bad = await bothWays(JSON.stringify({ query: '{ me { name } }' }), { authorization: 'Bearer not-a-token' });
    expect(bad.status).toBe(401);
    const invalid = await bothWays(JSON.stringify({ query: '{ noSuchField }' }));
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('runs the trusted-documents rule: an unknown id is refused, and a document registered through the lane is served by id either way', async () => {
    const query = '{ me { id name } }';
    const apq = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const unknown = await bothWays(JSON.stringify({ extensions: apq }), { authorization: `Bearer ${token}` });
    expect(JSON.parse(unknown.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(JSON.stringify({ query, extensions: apq }), { authorization: `Bearer ${token}` });
    expect(registered.status).toBe(200);
    const byId = await bothWays(JSON.stringify({ extensions: apq }), { authorization: `Bearer ${token}` });
    expect(JSON.parse(byId.body).data).toEqual({ me: { id: client.id, name: client.name } });
  });

  it('counts what it serves on /metrics as /graphql', async () => {
    const count = async () => {
      const text = await (await fetch(platform.gatewayUrl.replace('/graphql', '/metrics'))).text();
      return [...text.matchAll(/^fitsync_http_request_duration_seconds_count\{[^}]*route="\/graphql"[^}]*status="200"[^}]*\} (\d+)$/gm)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    };
    const before = await count();
    expect((await post(JSON.stringify({ query: '{ __typename }' }))).status).toBe(200);
    await expect.poll(count).toBe(before + 1);
  });

  describe('on a gateway with CORS origins', () => {
    const ALLOWED = 'https://app.fitsync.test';
    let gateway: Platform['gateway'];
    // A second gateway of the same platform (closed with it).
    beforeAll(async () => {
      gateway = await platform.startGateway({}, { CORS_ORIGINS: `${ALLOWED}, https://admin.fitsync.test` });
    });
    const query = JSON.stringify({ query: '{ __typename }' });

    it('still takes the common POST', async () => {
      expect(await whoServes(gateway, gateway.url)).toEqual(['lane', 'express']);
    });

    it('answers an allowed origin with the same CORS headers as Express', async () => {
      const answer = await bothWaysTo(gateway.url, query, { origin: ALLOWED });
      expect(answer.status).toBe(200);
      expect(answer.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(answer.headers['access-control-expose-headers']).toBe('x-correlation-id,retry-after');
      expect(answer.headers.vary).toMatch(/origin/i);
    });

    it('gives another origin no CORS grant, as Express does', async () => {
      const answer = await bothWaysTo(gateway.url, query, { origin: 'https://elsewhere.test' });
      expect(answer.status).toBe(200);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(answer.body).data).toEqual({ __typename: 'Query' });
    });

    it('leaves the preflight to Express, which answers it', async () => {
      const res = await fetch(gateway.url, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    });
  });
});
