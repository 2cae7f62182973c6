import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import type { RunningGateway } from '@fitsync/gateway';
import { createInProcessLiveBus, type LiveBus } from '@fitsync/live';
import { redisUrlForTests, testClock, withoutCost } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { operation } from './support/operations.js';
import { subscribeSse, subscribeWs, until } from './support/live.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;
const unread = gym.notifications.filter((n) => n.recipientId === client.id && !n.read).length;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const CLIENT_DASHBOARD = operation('ClientDashboard');
const TRAINER_DASHBOARD = operation('TrainerDashboard');
const UNREAD = 'subscription Unread { unreadNotificationCountChanged }';
const MY_NAME = 'query MyName { me { name } }';
const manifest = (ops: { name: string; type: string; body: string; id?: string }[]) =>
  JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: ops.map((o) => ({ id: sha256(o.body), ...o })) });

/** Each `operations:register` run is a node process loading TypeScript: seconds on a busy machine. */
const CLI_TIMEOUT = 90_000;
/** A reload is a file event (or a Redis message, or the 2 s poll) away: seconds on a busy machine at worst. */
const RELOAD = { timeout: 10_000, interval: 50 };

interface Answer {
  status: number;
  body: GraphQLResult;
}
async function post(url: string, body: unknown, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: withoutCost(await res.json()) };
}
async function get(url: string, params: Record<string, string>, token?: string): Promise<Answer> {
  const res = await fetch(`${url}?${new URLSearchParams(params)}`, {
    // Apollo's CSRF prevention wants a header no browser form sends.
    headers: { 'apollo-require-preflight': 'true', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: withoutCost(await res.json()) };
}
const codes = (a: Answer) => (a.body.errors ?? []).map((e) => e.extensions?.code);

/** The gateway's /metrics, and the value of one sample there (0 when absent). */
async function metric(gateway: RunningGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${new URL(gateway.url).origin}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
const subgraphCalls = (gateway: RunningGateway) => metric(gateway, 'fitsync_gateway_subgraph_request_duration_seconds_count');

/** `npm run operations:register -- ...`, as a user runs it, from the repository root. */
async function register(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx/esm', 'scripts/operations-register.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('trusted documents at the gateway', () => {
  let platform: Platform;
  let bus: LiveBus;
  let enforcing: RunningGateway;
  let scratch: string;
  let registry: string;
  let token: string;
  let trainerToken: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fitsync-trusted-'));
    // The registry as a repository holds it: the dashboards, and a client's manifest under trusted/.
    registry = join(scratch, 'operations');
    await mkdir(join(registry, 'trusted'), { recursive: true });
    for (const name of ['ClientDashboard', 'TrainerDashboard']) await copyFile(join(ROOT, 'operations', `${name}.graphql`), join(registry, `${name}.graphql`));
    await writeFile(join(registry, 'trusted', 'mobile@2.0.0.json'), manifest([{ name: 'Unread', type: 'subscription', body: UNREAD }]));
    bus = createInProcessLiveBus();
    platform = await startPlatform('pglite', [gym], { clock, gateway: { live: { bus } } });
    enforcing = await platform.startGateway({ live: { bus } }, { TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_DIR: registry });
    token = await platform.tokenFor(client);
    trainerToken = await platform.tokenFor(trainer);
  });
  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('enforce', () => {
    it('refuses a document outside the registry with PERSISTED_QUERY_NOT_FOUND and 400, before any subgraph is asked', async () => {
      expect(unread).toBeGreaterThan(0);
      const before = await subgraphCalls(enforcing);
      const refused = await post(enforcing.url, { query: 'mutation { markAllNotificationsRead }' }, token);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        errors: [
          {
            message: expect.stringMatching(/^This document is not in the trusted registry/),
            extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
          },
        ],
      });
      // Hash and query together (APQ's registration) is no way round it, and registers nothing.
      const query = '{ users(first: 100) { edges { node { email } } } }';
      const apq = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
      expect(await post(enforcing.url, { query, extensions: apq }, token)).toMatchObject({
        status: 400,
        body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
      });
      expect(await post(enforcing.url, { extensions: apq }, token)).toMatchObject({
        status: 404,
        body: { errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
      });
      expect(await subgraphCalls(enforcing)).toBe(before);
      expect(await metric(enforcing, 'fitsync_gateway_untrusted_documents_total', { outcome: 'refused', transport: 'http' })).toBe(2);

      // The positive control: a registered document is served (and asks the subgraphs); nothing was marked read.
      const dashboard = await post(enforcing.url, { documentId: `sha256:${sha256(CLIENT_DASHBOARD)}` }, token);
      expect(dashboard.body.errors).toBeUndefined();
      expect(dashboard.body.data.me.unreadNotificationCount).toBe(unread);
      expect(await subgraphCalls(enforcing)).toBeGreaterThan(before);
    });

    it('serves the two dashboards by id (documentId, APQ, GET) and as their registered text, as a gateway without the rule does', async () => {
      for (const [document, who] of [
        [CLIENT_DASHBOARD, token],
        [TRAINER_DASHBOARD, trainerToken],
      ] as const) {
        const id = sha256(document);
        const expected = await post(platform.gatewayUrl, { query: document }, who);
        expect(expected.body.errors).toBeUndefined();
        expect(expected.body.data.me.id).toBeDefined();
        const answers = [
          await post(enforcing.url, { documentId: `sha256:${id}` }, who),
          await post(enforcing.url, { documentId: id }, who),
          await post(enforcing.url, { extensions: { persistedQuery: { version: 1, sha256Hash: id } } }, who),
          await post(enforcing.url, { query: document }, who),
          await get(enforcing.url, { documentId: `sha256:${id}` }, who),
          await get(enforcing.url, { extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: id } }) }, who),
        ];
        for (const answer of answers) expect(answer).toEqual({ status: 200, body: expected.body });
      }
    });

    it('answers bad ids with their own codes: unknown 404, malformed 400 BAD_REQUEST, a hash that is not the document 400 BAD_REQUEST', async () => {
      const unknown = 'e'.repeat(64);
      const cases: [Answer, number, string, RegExp][] = [
        [await post(enforcing.url, { documentId: `sha256:${unknown}` }, token), 404, 'PERSISTED_QUERY_NOT_FOUND', /no trusted document has the id e{64}/],
        [await get(enforcing.url, { documentId: unknown }, token), 404, 'PERSISTED_QUERY_NOT_FOUND', /no trusted document/],
        [
          await post(enforcing.url, { documentId: 'sha256:not-a-hash' }, token),
          400,
          'BAD_REQUEST',
          /documentId must be "sha256:" followed by the 64 hex digits/,
        ],
        [await get(enforcing.url, { documentId: 'abc' }, token), 400, 'BAD_REQUEST', /documentId must be/],
        [
          await post(enforcing.url, { extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }, token),
          400,
          'BAD_REQUEST',
          /sha256Hash must be the 64 hex digits/,
        ],
        [
          await post(enforcing.url, { query: MY_NAME, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(CLIENT_DASHBOARD) } } }, token),
          400,
          'BAD_REQUEST',
          /^The document does not match its id/,
        ],
        [await post(enforcing.url, { query: MY_NAME, documentId: `sha256:${sha256(CLIENT_DASHBOARD)}` }, token), 400, 'BAD_REQUEST', /does not match its id/],
      ];
      for (const [answer, status, code, message] of cases) {
        expect(answer.status).toBe(status);
        expect(answer.body.errors).toHaveLength(1);
        expect(answer.body.errors![0]).toEqual({ message: expect.stringMatching(message), extensions: { code } });
      }
      // The same on the gateway that allows ad-hoc documents: ids are ids in every mode.
      expect(codes(await post(platform.gatewayUrl, { documentId: `sha256:${unknown}` }, token))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect((await post(platform.gatewayUrl, { query: MY_NAME, documentId: sha256(CLIENT_DASHBOARD) }, token)).status).toBe(400);
    });

    it('holds for subscriptions: a registered one by id delivers over graphql-ws and SSE, an unregistered one is refused on both', async () => {
      const refusedWs = subscribeWs(enforcing.url, token, 'subscription { notificationAdded { id title } }');
      const refusedSse = subscribeSse(enforcing.url, token, 'subscription { notificationAdded { id title } }');
      const byId = subscribeWs(enforcing.url, token, '', undefined, { documentId: `sha256:${sha256(UNREAD)}` });
      const byApq = subscribeWs(enforcing.url, token, '', undefined, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNREAD) } } });
      const unknownId = subscribeWs(enforcing.url, token, '', undefined, { documentId: `sha256:${'d'.repeat(64)}` });
      const sseById = subscribeSse(enforcing.url, token, '', { documentId: `sha256:${sha256(UNREAD)}` });
      try {
        await until(() => refusedWs.errors.length > 0 && unknownId.errors.length > 0, 5_000, 'the unregistered subscriptions to be refused');
        expect(JSON.stringify(refusedWs.errors)).toMatch(/"code":"PERSISTED_QUERY_NOT_FOUND"/);
        expect(JSON.stringify(refusedWs.errors)).toMatch(/not in the trusted registry/);
        expect(JSON.stringify(unknownId.errors)).toMatch(/no trusted document has the id d{64}/);
        const sse = await refusedSse.refused;
        expect(sse.response!.status).toBe(400);
        expect(await sse.response!.json()).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });

        await until(() => enforcing.live!.active() === 3, 5_000, 'the three subscriptions by id to start');
        await bus.publish('unreadNotificationCountChanged', { user_id: client.id, count: 7 });
        await byId.waitFor(1);
        await byApq.waitFor(1);
        expect(byId.events).toEqual([{ data: { unreadNotificationCountChanged: 7 } }]);
        expect(byApq.events).toEqual([{ data: { unreadNotificationCountChanged: 7 } }]);
        await sseById.waitFor(1);
        expect(sseById.events).toEqual([{ data: { unreadNotificationCountChanged: 7 } }]);
        expect(refusedWs.events).toEqual([]);
      } finally {
        refusedSse.close();
        sseById.close();
        await Promise.all([refusedWs, byId, byApq, unknownId].map((s) => s.dispose()));
      }
    });
  });

  it('allow (the default outside production): a document outside the registry is served and counted', async () => {
    const labels = { outcome: 'served', transport: 'http' };
    const before = await metric(platform.gateway, 'fitsync_gateway_untrusted_documents_total', labels);
    const answer = await post(platform.gatewayUrl, { query: MY_NAME }, token);
    expect(answer).toEqual({ status: 200, body: { data: { me: { name: client.name } } } });
    expect(await metric(platform.gateway, 'fitsync_gateway_untrusted_documents_total', labels)).toBe(before + 1);
    // A registered document is not counted.
    await post(platform.gatewayUrl, { query: CLIENT_DASHBOARD }, token);
    expect(await metric(platform.gateway, 'fitsync_gateway_untrusted_documents_total', labels)).toBe(before + 1);
    expect(platform.gateway.trustedDocuments.status()).toMatchObject({ mode: 'allow', documents: 3 }); // the two dashboards and Unsubscribe;
  });

  describe('npm run operations:register', () => {
    it(
      'refuses a manifest naming each operation that does not validate or whose id is not its body, and writes nothing',
      async () => {
        const bad = join(scratch, 'bad.json');
        await writeFile(
          bad,
          manifest([
            { name: 'MyName', type: 'query', body: MY_NAME },
            { name: 'Wrong', type: 'query', body: 'query Wrong { me { shoeSize } }' },
            { name: 'Forged', type: 'query', body: 'query Forged { me { id } }', id: sha256('something else') },
            { name: 'Misnamed', type: 'subscription', body: 'query Other { me { id } }' },
            { name: 'Mistyped', type: 'subscription', body: 'query Mistyped { me { id } }' },
          ]),
        );
        const result = await register([bad, '--client', 'web@1.3.0', '--operations', registry]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('refused');
        expect(result.stderr).toMatch(
          /operation Wrong \(id [0-9a-f]{64}\): does not validate against the served schema: Cannot query field "shoeSize" on type "User"/,
        );
        expect(result.stderr).toContain(
          `operation Forged (id ${sha256('something else')}): the id is not the sha256 of the body (that is ${sha256('query Forged { me { id } }')})`,
        );
        expect(result.stderr).toMatch(/operation Misnamed \(id [0-9a-f]{64}\): the body holds no single operation named Misnamed/);
        expect(result.stderr).toMatch(/operation Mistyped \(id [0-9a-f]{64}\): the manifest says subscription, the body is a query/);
        expect(result.stderr).not.toMatch(/operation MyName/);
        expect(result.stderr.trim().split('\n')).toHaveLength(5);
        expect(await readdir(join(registry, 'trusted'))).toEqual(['mobile@2.0.0.json']);

        const usage = await register([bad]);
        expect(usage.code).toBe(2);
        expect(usage.stderr).toMatch(/usage: npm run operations:register -- <manifest.json> --client/);
      },
      CLI_TIMEOUT,
    );

    it(
      'registers a manifest that validates, and the running gateway serves it without a restart',
      async () => {
        const id = sha256(MY_NAME);
        expect((await post(enforcing.url, { documentId: `sha256:${id}` }, token)).status).toBe(404);
        expect((await post(enforcing.url, { query: MY_NAME }, token)).status).toBe(400);
        const reloads = enforcing.trustedDocuments.status().reloads;

        const file = join(scratch, 'web-manifest.json');
        await writeFile(file, manifest([{ name: 'MyName', type: 'query', body: MY_NAME }]));
        const result = await register([file, '--client', 'web@1.4.0', '--operations', registry]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`registered 1 operation(s) of web@1.4.0: ${join(registry, 'trusted', 'web@1.4.0.json')}`);

        await vi.waitFor(async () => expect((await post(enforcing.url, { documentId: `sha256:${id}` }, token)).status).toBe(200), RELOAD);
        expect(await post(enforcing.url, { documentId: `sha256:${id}` }, token)).toEqual({ status: 200, body: { data: { me: { name: client.name } } } });
        expect(await post(enforcing.url, { query: MY_NAME }, token)).toEqual({ status: 200, body: { data: { me: { name: client.name } } } });
        expect(enforcing.trustedDocuments.status()).toMatchObject({ documents: 4, reloads: reloads + 1 });
      },
      CLI_TIMEOUT,
    );
  });

  it('refuses a registry change that does not load, and keeps serving the registry it has', async () => {
    const before = enforcing.trustedDocuments.status();
    const broken = join(registry, 'trusted', 'broken.graphql');
    await writeFile(broken, 'query Broken { me { ');
    try {
      await vi.waitFor(() => expect(enforcing.trustedDocuments.status().lastRefused?.reason).toMatch(/broken\.graphql: Syntax Error/), RELOAD);
      expect(enforcing.trustedDocuments.status()).toMatchObject({ documents: before.documents, hash: before.hash, reloads: before.reloads });
      expect(await metric(enforcing, 'fitsync_gateway_trusted_documents_reloads_total', { outcome: 'refused' })).toBe(1);
      expect((await post(enforcing.url, { documentId: sha256(CLIENT_DASHBOARD) }, token)).status).toBe(200);
    } finally {
      await rm(broken);
    }
  });

  it('a gateway whose Redis does not answer starts anyway and serves the registry in its folder', async () => {
    // Nothing listens on port 1: connections are refused at once.
    const gw = await platform.startGateway(
      { live: false },
      { TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_DIR: registry, REDIS_URL: 'redis://127.0.0.1:1' },
    );
    try {
      expect(gw.trustedDocuments.status().sources).toEqual([registry, `redis hash ${platform.eventsPrefix}:trusted-documents`]);
      const answer = await post(gw.url, { documentId: sha256(CLIENT_DASHBOARD) }, token);
      expect(answer.status).toBe(200);
      expect(answer.body.data.me.id).toBe(client.id);
      expect((await post(gw.url, { query: '{ me { id } }' }, token)).status).toBe(400);
    } finally {
      await gw.close();
    }
  });

  const redisUrl = redisUrlForTests();
  describe.runIf(redisUrl)('across replicas over Redis', () => {
    it(
      'a manifest registered on one machine is served by every gateway replica sharing the Redis',
      async () => {
        // Two replicas with registries of their own (other machines), and the command run on a third.
        const env = (dir: string) => ({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_DIR: dir, REDIS_URL: redisUrl! });
        const replicas = await Promise.all(['a', 'b'].map(async (name) => platform.startGateway({ live: false }, env(join(scratch, `replica-${name}`)))));
        const redis = new Redis(redisUrl!);
        try {
          const body = 'query Replicated { me { email } }';
          for (const gw of replicas) expect((await post(gw.url, { documentId: sha256(body) }, token)).status).toBe(404);
          const file = join(scratch, 'replicated.json');
          await writeFile(file, manifest([{ name: 'Replicated', type: 'query', body }]));
          const result = await register([file, '--client', 'ios@3.1.0', '--operations', join(scratch, 'elsewhere')], {
            REDIS_URL: redisUrl!,
            EVENTS_PREFIX: platform.eventsPrefix,
          });
          expect(result.code).toBe(0);
          expect(result.stdout).toContain(`announced to the gateways over Redis (${platform.eventsPrefix}:trusted-documents)`);
          for (const gw of replicas) {
            await vi.waitFor(
              async () =>
                expect(await post(gw.url, { documentId: sha256(body) }, token)).toEqual({ status: 200, body: { data: { me: { email: client.email } } } }),
              RELOAD,
            );
          }
        } finally {
          await redis.del(`${platform.eventsPrefix}:trusted-documents`);
          redis.disconnect();
          await Promise.all(replicas.map((gw) => gw.close()));
        }
      },
      CLI_TIMEOUT,
    );
  });
});
