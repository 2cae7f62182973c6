import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compose, formatProblems, supergraphHash } from '@fitsync/composition';
import { demoGym, DEMO_LOGINS } from '@fitsync/demo-data';
import type { RunningSubgraph } from '@fitsync/service-kit';
import { openTestDatabase, redisUrlForTests, testConfig, testToken } from '@fitsync/service-kit/testing';
import { seedUsers, startUsers, usersSubgraph } from '@fitsync/users';
import { parse, validate } from 'graphql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type RunningGateway } from '../server.js';
import type { SchemaChange } from '../supergraph-source.js';
import { publishSupergraphToRedis } from '../supergraph-redis.js';
import { STUB_TRAINING_SDL, startStubTraining, type StubTraining } from './stub-training.js';

const gym = demoGym('2026-11-23');
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const usersSdl = readFileSync(new URL('../../../subgraphs/users/schema.graphql', import.meta.url), 'utf8');
/** Version 2 adds a field to the API schema (the stand-in does not resolve it; nothing asks for it). */
const TRAINING_V2 = STUB_TRAINING_SDL.replace('    nickname: String\n', '    nickname: String\n    "New in version 2."\n    level: Int\n');

function supergraphOf(urls: { users: string; training: string }, trainingSdl = STUB_TRAINING_SDL) {
  const result = compose([
    { name: 'users', url: urls.users, sdl: usersSdl },
    { name: 'training', url: urls.training, sdl: trainingSdl },
  ]);
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.supergraphSdl;
}

/** A reload is a file event (or a Redis message) away, then a validation: seconds on a busy machine at worst. */
const RELOAD = { timeout: 10_000, interval: 20 };

const ME = '{ me { id name nickname } }';
const USER_FIELDS = '{ __type(name: "User") { fields { name } } }';

describe('hot reload of the supergraph', () => {
  let users: RunningSubgraph;
  let training: StubTraining;
  let dispose: () => Promise<void>;
  let dir: string;
  let token: string;
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    const t = await openTestDatabase('users', usersSubgraph.migrationsDir, 'pglite');
    dispose = t.dispose;
    await seedUsers(t.db, gym);
    users = await startUsers(testConfig('users'), { db: t.db });
    training = await startStubTraining(() => []);
    dir = await mkdtemp(join(tmpdir(), 'fitsync-reload-'));
    token = await testToken({ id: client.id, role: 'CLIENT' });
    v1 = supergraphOf({ users: users.url, training: training.url });
    v2 = supergraphOf({ users: users.url, training: training.url }, TRAINING_V2);
  });
  afterAll(async () => {
    await training?.close();
    await users?.close();
    await dispose?.();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(gateway: RunningGateway, query: string) {
    const res = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: unknown[] } };
  }
  const userFields = async (gateway: RunningGateway) => ((await post(gateway, USER_FIELDS)).body.data.__type.fields as { name: string }[]).map((f) => f.name);

  /** Writes like `npm run compose` and `schema:publish`: a temp file renamed over the served one. */
  async function publishFile(path: string, sdl: string) {
    await writeFile(`${path}.tmp`, sdl);
    await rename(`${path}.tmp`, path);
  }

  it('swaps supergraphs twice during a steady stream of requests with zero failed requests', async () => {
    const path = join(dir, 'stream.graphql');
    await writeFile(path, v1);
    const gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: path }));
    const changes: SchemaChange[] = [];
    gateway.supergraph.onSchemaChange((c) => changes.push(c));
    try {
      expect(gateway.supergraph.status()).toMatchObject({ hash: supergraphHash(v1), source: path, reloads: 0 });
      expect(await userFields(gateway)).not.toContain('level');

      let running = true;
      const failures: unknown[] = [];
      let done = 0;
      const worker = async () => {
        while (running) {
          const res: Awaited<ReturnType<typeof post>> = await post(gateway, ME).catch((err: unknown) => ({ status: 0, body: { errors: [String(err)] } }));
          if (res.status !== 200 || res.body.errors || res.body.data?.me?.id !== client.id) failures.push(res);
          done++;
        }
      };
      const workers = Array.from({ length: 8 }, worker);

      await expect.poll(() => done, { ...RELOAD, message: 'some traffic' }).toBeGreaterThan(50);
      await publishFile(path, v2);
      await expect.poll(() => gateway.supergraph.status().hash, { ...RELOAD, message: 'version 2' }).toBe(supergraphHash(v2));
      const mid = done;
      await expect.poll(() => done, { ...RELOAD, message: 'traffic on version 2' }).toBeGreaterThan(mid + 50);
      await publishFile(path, v1);
      await expect.poll(() => gateway.supergraph.status().hash, { ...RELOAD, message: 'version 1 again' }).toBe(supergraphHash(v1));
      const end = done;
      await expect.poll(() => done, { ...RELOAD, message: 'traffic on version 1' }).toBeGreaterThan(end + 50);
      running = false;
      await Promise.all(workers);

      expect(failures).toEqual([]);
      expect(done).toBeGreaterThan(150);
      expect(gateway.supergraph.status().reloads).toBe(2);
      expect(changes.map((c) => [c.previousHash, c.hash])).toEqual([
        [supergraphHash(v1), supergraphHash(v2)],
        [supergraphHash(v2), supergraphHash(v1)],
      ]);
      // The hook a subscription layer uses: the new API schema, ready for graphql-js validate().
      const level = parse('{ me { level } }');
      expect(validate(changes[0].apiSchema, level)).toEqual([]);
      expect(validate(changes[1].apiSchema, level).map((e) => e.message)).toEqual(['Cannot query field "level" on type "User".']);
      expect(gateway.supergraph.apiSchema()).toBe(changes[1].apiSchema);
      const metrics = await (await fetch(new URL('/metrics', gateway.url))).text();
      expect(metrics).toMatch(/fitsync_gateway_supergraph_reloads_total\{outcome="applied",service="gateway"\} 2/);
      expect(metrics).toContain(`fitsync_gateway_supergraph_info{hash="${supergraphHash(v1)}",service="gateway"} 1`);
      expect(metrics).not.toContain(`hash="${supergraphHash(v2)}"`);
    } finally {
      await gateway.close();
    }
  });

  it('serves the new schema after a reload', async () => {
    const path = join(dir, 'fields.graphql');
    await writeFile(path, v1);
    const gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: path }));
    try {
      await publishFile(path, v2);
      await expect.poll(() => gateway.supergraph.status().hash, RELOAD).toBe(supergraphHash(v2));
      expect(await userFields(gateway)).toContain('level');
      const ready = (await (await fetch(new URL('/ready', gateway.url))).json()) as { detail: { supergraph: unknown } };
      expect(ready.detail.supergraph).toMatchObject({ hash: supergraphHash(v2), source: path, reloads: 1 });
    } finally {
      await gateway.close();
    }
  });

  it('refuses an invalid supergraph with a log line and keeps serving the old one', async () => {
    const path = join(dir, 'invalid.graphql');
    await writeFile(path, v1);
    const gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: path }));
    const logged: unknown[] = [];
    const error = gateway.log.error.bind(gateway.log);
    gateway.log.error = (obj: unknown, msg?: string) => {
      logged.push([obj, msg]);
      return error(obj as object, msg);
    };
    try {
      const notASupergraph = 'type Query { me: String }';
      await publishFile(path, notASupergraph);
      await expect.poll(() => gateway.supergraph.status().lastRefused?.hash, RELOAD).toBe(supergraphHash(notASupergraph));
      expect((await post(gateway, ME)).body).toEqual({
        data: { me: { id: client.id, name: client.name, nickname: `nick-${client.id.slice(0, 8)}` } },
        extensions: { cost: { estimated: 1, max: expect.any(Number) } },
      });

      await publishFile(path, 'this is { not graphql');
      await expect.poll(() => gateway.supergraph.status().lastRefused?.hash, RELOAD).toBe(supergraphHash('this is { not graphql'));
      expect(gateway.supergraph.status()).toMatchObject({ hash: supergraphHash(v1), reloads: 0 });
      expect(gateway.supergraph.status().lastRefused?.reason).toMatch(/Syntax Error/);
      expect((await post(gateway, ME)).body.data.me.id).toBe(client.id);
      expect(logged).toHaveLength(2);
      expect(logged[0]).toEqual([
        expect.objectContaining({ refused: supergraphHash(notASupergraph).slice(0, 12), serving: supergraphHash(v1).slice(0, 12) }),
        'new supergraph refused; the current one keeps serving',
      ]);
      const metrics = await (await fetch(new URL('/metrics', gateway.url))).text();
      expect(metrics).toMatch(/fitsync_gateway_supergraph_reloads_total\{outcome="refused",service="gateway"\} 2/);

      // a valid one after the refusals is taken
      await publishFile(path, v2);
      await expect.poll(() => gateway.supergraph.status().hash, RELOAD).toBe(supergraphHash(v2));
    } finally {
      await gateway.close();
    }
  });

  it('follows a Redis key shared by several gateways', async () => {
    const url = redisUrlForTests();
    if (!url) return; // FITSYNC_REQUIRE_SERVICES=1 (CI) makes a missing Redis a failure above
    const key = `test:${Math.random().toString(36).slice(2)}:supergraph`;
    const redis = new Redis(url);
    const fallback = join(dir, 'redis-fallback.graphql');
    await writeFile(fallback, v1);
    const env = { SUPERGRAPH_PATH: fallback, SUPERGRAPH_REDIS_KEY: key, REDIS_URL: url };
    const a = await createGateway(testConfig('gateway', 'pglite', undefined, env));
    try {
      // Nothing published at the key yet: the file serves until the first publish.
      expect(a.supergraph.status()).toMatchObject({ hash: supergraphHash(v1), source: `redis key ${key}` });
      await publishSupergraphToRedis(url, key, v2);
      await expect.poll(() => a.supergraph.status().hash, { ...RELOAD, message: 'replica a on version 2' }).toBe(supergraphHash(v2));
      const b = await createGateway(testConfig('gateway', 'pglite', undefined, env));
      try {
        expect(b.supergraph.status().hash).toBe(supergraphHash(v2));
        const broken = 'type Query { broken: Int }';
        await publishSupergraphToRedis(url, key, broken);
        await expect
          .poll(() => [a, b].map((g) => g.supergraph.status().lastRefused?.hash), { ...RELOAD, message: 'both refuse' })
          .toEqual([supergraphHash(broken), supergraphHash(broken)]);
        await publishSupergraphToRedis(url, key, v1);
        await expect
          .poll(() => [a, b].map((g) => g.supergraph.status().hash), { ...RELOAD, message: 'both on version 1' })
          .toEqual([supergraphHash(v1), supergraphHash(v1)]);
        expect((await post(b, ME)).body.data.me.id).toBe(client.id);
        expect(await userFields(a)).not.toContain('level');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await redis.del(key);
      redis.disconnect();
    }
  });
});
