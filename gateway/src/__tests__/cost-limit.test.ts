import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { DEFAULT_MAX_OPERATION_COST, SUBGRAPHS, type SubgraphName } from '@fitsync/service-kit';
import { testClock, testConfig, testToken } from '@fitsync/service-kit/testing';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createGateway, type RunningGateway } from '../server.js';

const supergraphSdl = readFileSync(new URL('../../../supergraph.graphql', import.meta.url), 'utf8');
const operation = (name: string) => readFileSync(new URL(`../../../operations/${name}.graphql`, import.meta.url), 'utf8');
const viewer = { id: '6f1c2a9e-3b1d-4c55-9a47-0d2f8e1b7c10', role: 'CLIENT' as const };
const { clock } = testClock();
const soon = { timeout: 5_000 };

// first: 100 lists nested three deep: 1 + 100 * (1 + 100 * (1 + 100)) on the served schema.
const NESTED = '{ me { clients(first: 100) { programs(first: 100) { bookings(first: 100) { id } } } } }';
const NESTED_COST = 1_010_101;
const NESTED_BY_VARIABLE = 'query Nested($n: Int) { me { clients(first: $n) { programs(first: $n) { bookings(first: $n) { id } } } } }';
const NESTED_SUBSCRIPTION = 'subscription { notificationAdded { recipient { clients(first: 100) { programs(first: 100) { bookings(first: 100) { id } } } } } }';
// notificationAdded (1) + recipient (1) + the nesting above, without `me`.
const NESTED_SUBSCRIPTION_COST = 1 + 1 + 100 * (1 + 100 * (1 + 100));

/** Stands in for all five subgraphs: counts what the gateway sends and answers each with a coded error. */
async function startCountingSubgraphs() {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body.slice(0, 200)}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: null, errors: [{ message: 'stand-in subgraph', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** The refusal of an operation over the budget: 400, COST_LIMIT_EXCEEDED, naming its cost and the budget, nothing of the server's insides. */
function expectOverBudget(answer: Answer, estimated: number, max: number) {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.json.data).toBeUndefined();
  expect(answer.json.errors).toHaveLength(1);
  const [error] = answer.json.errors;
  expect(error.extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', cost: { estimated, max } });
  expect(error.message).toContain(`costs ${estimated}, over the budget of ${max} (MAX_OPERATION_COST)`);
  expect(answer.text).not.toMatch(/\s+at \w|node_modules|\/work\/|file:\/\//);
}

/** A graphql-ws subscription: the errors it was refused with, if it was. */
function subscribeWs(gateway: RunningGateway, token: string, query: string) {
  const sub = {
    errors: [] as { message: string; extensions?: Record<string, unknown> }[][],
    dispose: () => client.dispose(),
  };
  const client = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  client.subscribe(
    { query },
    {
      next: () => {},
      error: (err) => void sub.errors.push(err as (typeof sub.errors)[number]),
      complete: () => {},
    },
  );
  return sub;
}

describe('demand control at the gateway (the served supergraph, stand-in subgraphs that count requests)', () => {
  let subgraphs: Awaited<ReturnType<typeof startCountingSubgraphs>>;
  let bus: LiveBus;
  let gateway: RunningGateway;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    subgraphs = await startCountingSubgraphs();
    bus = createInProcessLiveBus();
    const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphs.url])) as Record<SubgraphName, string>;
    gateway = await createGateway(testConfig('gateway'), { supergraphSdl, subgraphUrls, clock, live: { bus } });
    token = await testToken(viewer, clock);
  });
  afterAll(async () => {
    await gateway?.close();
    await bus?.close();
    await subgraphs?.close();
  });

  it('refuses first: 100 lists nested three deep over HTTP with its cost and the budget, asking no subgraph', async () => {
    // Positive control: a cheap operation reaches the stand-in, so the count below would see a fetch.
    const before = subgraphs.seen.length;
    const cheap = await post(gateway.url, '{ me { id } }', {}, auth());
    expect(cheap.json.extensions.cost).toEqual({ estimated: 1, max: DEFAULT_MAX_OPERATION_COST });
    expect(subgraphs.seen.length).toBeGreaterThan(before);

    const seen = subgraphs.seen.length;
    expectOverBudget(await post(gateway.url, NESTED, {}, auth()), NESTED_COST, DEFAULT_MAX_OPERATION_COST);
    expectOverBudget(await post(gateway.url, NESTED_BY_VARIABLE, { n: 100 }, auth()), NESTED_COST, DEFAULT_MAX_OPERATION_COST);
    // Anonymous too: the cost is checked before anything else is asked.
    expectOverBudget(await post(gateway.url, NESTED), NESTED_COST, DEFAULT_MAX_OPERATION_COST);
    expect(subgraphs.seen.length).toBe(seen);
  });

  it('prices lists by their variables: the same document with first: 2 passes', async () => {
    const seen = subgraphs.seen.length;
    const small = await post(gateway.url, NESTED_BY_VARIABLE, { n: 2 }, auth());
    expect(small.json.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)).not.toContain('COST_LIMIT_EXCEEDED');
    expect(small.json.extensions.cost).toEqual({ estimated: 1 + 2 * (1 + 2 * (1 + 2)), max: DEFAULT_MAX_OPERATION_COST });
    expect(subgraphs.seen.length).toBeGreaterThan(seen);
  });

  it('serves both dashboards, reporting their cost outside production', async () => {
    for (const [name, estimated] of [
      ['ClientDashboard', 824],
      ['TrainerDashboard', 663],
    ] as const) {
      const seen = subgraphs.seen.length;
      const answer = await post(gateway.url, operation(name), {}, auth());
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json.extensions.cost).toEqual({ estimated, max: DEFAULT_MAX_OPERATION_COST });
      // The stand-ins answer an error, so `me` is null; what matters is that it was asked.
      expect(answer.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).not.toContain('COST_LIMIT_EXCEEDED');
      expect(subgraphs.seen.length, name).toBeGreaterThan(seen);
    }
  });

  it('makes aliases and fragments pay for what they select', async () => {
    const aliased = `{ a: me { ...Wide } b: me { ...Wide } } fragment Wide on User { clients(first: 100) { programs(first: 100) { id } } }`;
    const seen = subgraphs.seen.length;
    expectOverBudget(await post(gateway.url, aliased, {}, auth()), 2 * (1 + 100 * (1 + 100)), DEFAULT_MAX_OPERATION_COST);
    expect(subgraphs.seen.length).toBe(seen);
  });

  it('refuses an expensive subscription over graphql-ws and SSE with COST_LIMIT_EXCEEDED', async () => {
    const ws = subscribeWs(gateway, token, NESTED_SUBSCRIPTION);
    try {
      await vi.waitFor(() => expect(ws.errors).toHaveLength(1), soon);
      const [error] = ws.errors[0];
      expect(error.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: { estimated: NESTED_SUBSCRIPTION_COST, max: DEFAULT_MAX_OPERATION_COST } });
      expect(error.message).toContain(`costs ${NESTED_SUBSCRIPTION_COST}, over the budget of ${DEFAULT_MAX_OPERATION_COST}`);
    } finally {
      await ws.dispose();
    }

    const sse = await post(gateway.url, NESTED_SUBSCRIPTION, {}, { ...auth(), accept: 'text/event-stream' });
    expect(sse.status, sse.text).toBe(400);
    expect(sse.json.errors[0].extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: { estimated: NESTED_SUBSCRIPTION_COST } });
    expect(gateway.live!.active()).toBe(0);

    // Positive control: a cheap subscription on the same transport is accepted.
    const client = createSseClient({ url: gateway.url, retryAttempts: 0, headers: auth() });
    try {
      let refused: unknown;
      client.subscribe({ query: 'subscription { unreadNotificationCountChanged }' }, { next: () => {}, error: (err) => (refused = err), complete: () => {} });
      await vi.waitFor(() => expect(gateway.live!.active()).toBe(1), soon);
      expect(refused).toBeUndefined();
    } finally {
      client.dispose();
    }
    await vi.waitFor(() => expect(gateway.live!.active()).toBe(0), soon);
  });

  it('counts the costs it saw, served and refused, in /metrics', async () => {
    const metrics = await (await fetch(new URL('/metrics', gateway.url))).text();
    const sample = (series: string, outcome: string, le?: string) =>
      Number(new RegExp(`^fitsync_gateway_operation_cost_${series}\\{${le ? `le="${le}",` : ''}[^}]*outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    // The tests above: four refusals over HTTP, one over WebSocket, one over SSE.
    expect(sample('count', 'refused')).toBe(6);
    expect(sample('count', 'served')).toBeGreaterThanOrEqual(5);
    // Nothing within the budget was refused.
    expect(sample('bucket', 'refused', String(DEFAULT_MAX_OPERATION_COST))).toBe(0);
  });
});

describe('MAX_OPERATION_COST set, in production', () => {
  let subgraphs: Awaited<ReturnType<typeof startCountingSubgraphs>>;
  let gateway: RunningGateway;
  let token: string;

  beforeAll(async () => {
    subgraphs = await startCountingSubgraphs();
    const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphs.url])) as Record<SubgraphName, string>;
    gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { NODE_ENV: 'production', MAX_OPERATION_COST: '700' }), {
      supergraphSdl,
      subgraphUrls,
      clock,
      live: false,
    });
    token = await testToken(viewer, clock);
  });
  afterAll(async () => {
    await gateway?.close();
    await subgraphs?.close();
  });

  it('holds operations to the budget given, and reports no cost on answers', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const seen = subgraphs.seen.length;
    expectOverBudget(await post(gateway.url, operation('ClientDashboard'), {}, auth), 824, 700);
    expect(subgraphs.seen.length).toBe(seen);
    const trainer = await post(gateway.url, operation('TrainerDashboard'), {}, auth);
    expect(trainer.status).toBe(200);
    expect(trainer.json.extensions?.cost).toBeUndefined();
    expect(subgraphs.seen.length).toBeGreaterThan(seen);
  });
});

describe('after a hot reload', () => {
  let subgraphs: Awaited<ReturnType<typeof startCountingSubgraphs>>;
  let gateway: RunningGateway;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    subgraphs = await startCountingSubgraphs();
    dir = await mkdtemp(join(tmpdir(), 'fitsync-cost-'));
    await writeFile(join(dir, 'supergraph.graphql'), supergraphSdl);
    const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphs.url])) as Record<SubgraphName, string>;
    gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: join(dir, 'supergraph.graphql') }), {
      subgraphUrls,
      clock,
      live: false,
    });
    token = await testToken(viewer, clock);
  });
  afterAll(async () => {
    await gateway?.close();
    await subgraphs?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prices operations by the directives of the supergraph served now', async () => {
    const query = '{ me { activePrograms { id } } }';
    const costOf = async () => (await post(gateway.url, query, {}, { authorization: `Bearer ${token}` })).json.extensions.cost.estimated;
    expect(await costOf()).toBe(1 + 100);
    const smaller = supergraphSdl.replace(/(activePrograms: \[Program!\] .*@listSize\(assumedSize: )100\)/, '$13)');
    expect(smaller).not.toBe(supergraphSdl);
    const tmp = join(dir, 'next.graphql');
    await writeFile(tmp, smaller);
    await rename(tmp, join(dir, 'supergraph.graphql'));
    await gateway.supergraph.reload();
    await vi.waitFor(async () => expect(await costOf()).toBe(1 + 3), soon);
  });
});
