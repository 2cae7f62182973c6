import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { SUBGRAPHS, type SubgraphName } from '@fitsync/service-kit';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { operation } from './support/operations.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

// GATEWAY_DEFER_ENTITY_FETCHES (gateway/src/planner-fixes/defer-entity-fetches.ts) on the real
// platform: the dashboards' users fetches that the plan issues after `training` wait for the
// ones after `schedule` and go out with them. Requests are counted where they reach the
// subgraphs (a counting relay in front of each), against a gateway with the rewrite off.

const { clock, today } = testClock('inSession');
const gym = demoGym(today);

/** A relay in front of one subgraph: counts the GraphQL requests that reach it, and fails them when told to. */
interface Relay {
  url: string;
  requests: number;
  /** Answer 502 (no GraphQL body: the subgraph is not there) to requests whose body this accepts. */
  fail?: (body: string) => boolean;
  server: Server;
}

async function startRelay(target: string): Promise<Relay> {
  const relay = { requests: 0 } as Relay;
  relay.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // Not the breaker's own probe (`{ __typename }`): requests of client operations.
      const graphql = req.method === 'POST' && !/"query":"\{ *__typename *\}"/.test(body);
      if (graphql) relay.requests++;
      if (graphql && relay.fail?.(body)) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>;
      fetch(target, { method: req.method, headers, body: req.method === 'POST' ? body : undefined })
        .then(async (answer) => {
          res
            .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
            .end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(relay.server.address() as AddressInfo).port}/graphql`;
  return relay;
}

type Relays = Record<SubgraphName, Relay>;
const SLOW_MACHINE = { SUBGRAPH_TIMEOUT_MS: '60000', OPERATION_TIMEOUT_MS: '120000' };
const total = (relays: Relays) => SUBGRAPHS.reduce((n, s) => n + relays[s].requests, 0);
const perSubgraph = (relays: Relays) => Object.fromEntries(SUBGRAPHS.map((s) => [s, relays[s].requests]));
const reset = (relays: Relays) => SUBGRAPHS.forEach((s) => ((relays[s].requests = 0), (relays[s].fail = undefined)));

/** Errors as a set: path and service, in a stable order. */
const errorsOf = (res: GraphQLResult) =>
  (res.errors ?? [])
    .map((e) => ({ path: e.path, code: e.extensions?.code, service: e.extensions?.service }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('entity fetches deferred to a later stage of the plan, on the platform', () => {
  let platform: Platform;
  type Pair = Record<'on' | 'off', { gateway: RunningGateway; relays: Relays }>;
  const relaysStarted: Relay[] = [];
  /** A gateway with the rewrite and one without, each with relays of its own (each one's requests counted apart). */
  const startPair = async (env: Record<string, string>): Promise<Pair> => {
    const pair = {} as Pair;
    for (const mode of ['on', 'off'] as const) {
      const relays = {} as Relays;
      for (const s of SUBGRAPHS) relaysStarted.push((relays[s] = await startRelay(platform.subgraphs[s].url)));
      const gateway = await platform.startGateway(
        { subgraphUrls: Object.fromEntries(SUBGRAPHS.map((s) => [s, relays[s].url])), deferEntityFetches: mode === 'on' },
        env,
      );
      pair[mode] = { gateway, relays };
    }
    return pair;
  };
  let gateways: Pair;
  const tokens = {} as Record<'trainer' | 'client', string>;

  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    // No breaker opens on the failures of the cases below (the breaker case has gateways of its own).
    // Deadlines well over what a loaded machine takes (the first operations compile everything).
    gateways = await startPair({ BREAKER_MIN_REQUESTS: '100000', ...SLOW_MACHINE });
    const user = (email: string) => gym.users.find((u) => u.email === email)!;
    tokens.trainer = await platform.tokenFor({ id: user(DEMO_LOGINS.trainer).id, role: 'TRAINER' });
    tokens.client = await platform.tokenFor({ id: user(DEMO_LOGINS.client).id, role: 'CLIENT' });
    // A platform and two gateways: slow on a loaded machine.
  }, 240_000);

  afterAll(async () => {
    await platform?.close();
    for (const relay of relaysStarted) await new Promise((r) => relay.server.close(r));
  });

  beforeEach(() => Object.values(gateways).forEach(({ relays }) => reset(relays)));

  const ask = async (mode: 'on' | 'off', name: 'TrainerDashboard' | 'ClientDashboard', token: string, pair = gateways): Promise<GraphQLResult> => {
    const res = await fetch(pair[mode].gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: operation(name) }),
    });
    return (await res.json()) as GraphQLResult;
  };

  it.each([
    ['TrainerDashboard', 'trainer'],
    ['ClientDashboard', 'client'],
  ] as const)('%s: 6 subgraph requests instead of 7 (users twice instead of three times), the same answer', async (name, who) => {
    const on = await ask('on', name, tokens[who]);
    const off = await ask('off', name, tokens[who]);
    expect(on.errors, JSON.stringify(on.errors)).toBeUndefined();
    expect(on).toEqual(off);
    expect(total(gateways.off.relays)).toBe(7);
    expect(gateways.off.relays.users.requests).toBe(3);
    expect(total(gateways.on.relays)).toBe(6);
    expect(perSubgraph(gateways.on.relays)).toEqual({ users: 2, training: 1, schedule: 1, progress: 1, notifications: 1 });
    // Real data made it through the merged request: names from users under training's and schedule's objects.
    if (name === 'TrainerDashboard') {
      expect(on.data.me.clients.length).toBeGreaterThan(0);
      expect(on.data.me.clients.every((c: { name: string | null }) => typeof c.name === 'string')).toBe(true);
      expect(on.data.me.todaySchedule.every((b: { client: { name: string | null } }) => typeof b.client.name === 'string')).toBe(true);
    } else {
      expect(on.data.me.clientProfile).not.toBeNull();
      expect(on.data.me.activePrograms.every((p: { trainer: { name: string | null } }) => typeof p.trainer.name === 'string')).toBe(true);
    }
  });

  it.each([
    ['TrainerDashboard', 'trainer'],
    ['ClientDashboard', 'client'],
  ] as const)("%s with users' entity fetches failing: the same data and the same errors (path, service) as without the rewrite", async (name, who) => {
    for (const { relays } of Object.values(gateways)) relays.users.fail = (body) => body.includes('_entities');
    const on = await ask('on', name, tokens[who]);
    const off = await ask('off', name, tokens[who]);
    expect(on.data).toEqual(off.data);
    expect(errorsOf(on)).toEqual(errorsOf(off));
    expect(on.errors!.length).toBeGreaterThan(0);
    for (const e of on.errors!) {
      expect(e.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'users' });
      expect(e.path?.[0]).toBe('me');
    }
    // The deferred fetches' fields are among those named: a client's name under me.clients (trainer), the client's profile (client).
    const paths = on.errors!.map((e) => JSON.stringify(e.path));
    expect(paths).toContain(name === 'TrainerDashboard' ? JSON.stringify(['me', 'clients', 0, 'name']) : JSON.stringify(['me', 'clientProfile']));
    // The users requests the rewrite merged failed as one: one request fewer reached users.
    expect(gateways.on.relays.users.requests).toBe(gateways.off.relays.users.requests - 1);
  });

  it("TrainerDashboard with schedule's breaker open: the users fetches that now wait in schedule's branch still fill the clients' and programs' names", async () => {
    // One failed request opens a breaker here, and it stays open for the test.
    const pair = await startPair({ BREAKER_MIN_REQUESTS: '1', BREAKER_FAILURE_PERCENT: '1', BREAKER_COOLDOWN_MS: '3600000', ...SLOW_MACHINE });
    for (const { relays } of Object.values(pair)) relays.schedule.fail = () => true;
    await ask('on', 'TrainerDashboard', tokens.trainer, pair);
    await ask('off', 'TrainerDashboard', tokens.trainer, pair);
    for (const { relays } of Object.values(pair)) relays.schedule.requests = relays.users.requests = 0;
    const on = await ask('on', 'TrainerDashboard', tokens.trainer, pair);
    const off = await ask('off', 'TrainerDashboard', tokens.trainer, pair);
    expect(pair.on.relays.schedule.requests).toBe(0);
    expect(on.data).toEqual(off.data);
    expect(errorsOf(on)).toEqual(errorsOf(off));
    expect(on.errors!.map((e) => [e.path, e.extensions?.service, e.message]).sort()).toEqual([
      [['me', 'todaySchedule'], 'schedule', 'The schedule service is unavailable (circuit open)'],
      [['me', 'upcomingBookings'], 'schedule', 'The schedule service is unavailable (circuit open)'],
    ]);
    const me = on.data.me;
    expect(me.clients.length).toBeGreaterThan(0);
    for (const c of me.clients) expect(typeof c.name).toBe('string');
    for (const p of me.programs) expect(typeof p.client.name).toBe('string');
    // users: the root fetch, then the two deferred fetches in one request (no bookings to ask names for).
    expect(pair.on.relays.users.requests).toBe(2);
    expect(pair.off.relays.users.requests).toBe(2);
  }, 60_000);
});
