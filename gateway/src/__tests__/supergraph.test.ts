import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compose, formatProblems } from '@fitsync/composition';
import { createLogger, loadConfig, loadToolConfig } from '@fitsync/service-kit';
import { testConfig } from '@fitsync/service-kit/testing';
import { buildSchema, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationLimitsRule } from '../limits.js';
import { buildGateway, createGateway } from '../server.js';
import { loadSupergraph, subgraphUrl } from '../supergraph.js';

const log = createLogger('gateway', 'silent');

describe('loading the supergraph', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fitsync-gateway-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const configIn = (env: Record<string, string> = {}) =>
    testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'), ...env });
  const writeYaml = async (sdl: string) => {
    await writeFile(join(dir, 'a.graphql'), sdl);
    await writeFile(join(dir, 'supergraph.yaml'), 'subgraphs:\n  a:\n    routing_url: http://127.0.0.1:4101/graphql\n    schema:\n      file: ./a.graphql\n');
  };

  it('refuses to start in production without a composed supergraph file', async () => {
    await writeYaml('type Query { hello: String }');
    await expect(loadSupergraph(configIn({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SERVICE_SECRET: 'y'.repeat(32) }), log)).rejects.toThrow(
      /supergraph not found at .*supergraph\.graphql/,
    );
  });

  it('composes from supergraph.yaml outside production, and lists composition problems', async () => {
    await writeYaml('type Query { hello: String }');
    const ok = await loadSupergraph(configIn(), log);
    expect(ok.source).toMatch(/^composed from .*supergraph\.yaml$/);
    expect(ok.sdl).toContain('A @join__graph(name: "a", url: "http://127.0.0.1:4101/graphql")');

    await writeYaml('type Query { hello: Nope }');
    await expect(loadSupergraph(configIn(), log)).rejects.toThrow(/composing .*supergraph\.yaml failed with 1 problem\(s\):\n.*Unknown type Nope/);
  });

  it('reads the file when it exists', async () => {
    await writeFile(join(dir, 'supergraph.graphql'), 'schema { query: Query }');
    expect(await loadSupergraph(configIn(), log)).toEqual({ sdl: 'schema { query: Query }', source: join(dir, 'supergraph.graphql') });
  });

  it('refuses to start on SDL that is not a supergraph', async () => {
    await expect(createGateway(testConfig('gateway'), { supergraphSdl: 'type Query { hello: String }' })).rejects.toThrow(
      /^cannot serve the supergraph \(given\): /,
    );
  });

  it('routes to explicit overrides, then set <NAME>_URL variables, then the routing URL', () => {
    const routing = 'http://users:3001/graphql';
    // The variables as config.ts reads them: the gateway reads none itself.
    const env = (vars: Record<string, string>) => loadConfig('gateway', vars).subgraphUrlOverrides;
    expect(subgraphUrl('users', routing, {}, env({}))).toBe(routing);
    expect(subgraphUrl('users', routing, {}, env({ USERS_URL: '' }))).toBe(routing);
    expect(subgraphUrl('users', routing, {}, env({ USERS_URL: 'http://10.0.0.5:3001/graphql' }))).toBe('http://10.0.0.5:3001/graphql');
    expect(subgraphUrl('users', routing, { users: 'http://a/graphql' }, env({ USERS_URL: 'http://b/graphql' }))).toBe('http://a/graphql');
    expect(subgraphUrl('my-inventory', routing, {}, env({ MY_INVENTORY_URL: 'http://inv/graphql' }))).toBe('http://inv/graphql');
  });

  it('reads <NAME>_URL overrides once, in config.ts, with one rule for empty values', () => {
    const config = loadConfig('gateway', {
      USERS_URL: 'http://10.0.0.5:3001/graphql',
      TRAINING_URL: '',
      MY_INVENTORY_URL: 'http://inv/graphql',
      REDIS_URL: 'redis://r:6379',
    });
    expect(config.subgraphUrlOverrides).toEqual({ USERS_URL: 'http://10.0.0.5:3001/graphql', MY_INVENTORY_URL: 'http://inv/graphql' });
    // An empty TRAINING_URL is unset for the services' clients too, not an empty URL.
    expect(config.subgraphUrls).toMatchObject({ users: 'http://10.0.0.5:3001/graphql', training: 'http://127.0.0.1:3002/graphql' });
    // The same rule for every variable, and for the scripts' configuration.
    expect(loadConfig('gateway', { REDIS_URL: '', SUPERGRAPH_REDIS_KEY: '', GATEWAY_PORT: '' })).toMatchObject({
      redisUrl: undefined,
      supergraphRedisKey: undefined,
      port: 4000,
    });
    const tool = {
      REDIS_URL: '',
      SUPERGRAPH_REDIS_KEY: 'k',
      CI: '',
      SCHEMA_AUTHOR: '',
      GITHUB_ACTOR: 'octocat',
      EVENTS_PREFIX: '',
      SERVICE_SECRET: '',
      SCHEDULE_URL: '',
    };
    expect(loadToolConfig(tool)).toEqual({
      ci: false,
      schemaAuthor: 'octocat',
      redisUrl: undefined,
      supergraphRedisKey: 'k',
      eventsPrefix: 'fitsync',
      // The services' development default, so that schema:publish reaches `npm start`'s subgraphs.
      serviceSecret: loadConfig('schedule', {}).serviceSecret,
      subgraphUrlOverrides: {},
      subgraphSubscriptions: {},
    });
    expect(loadToolConfig({ ...tool, SERVICE_SECRET: 'deployment-service-secret', SCHEDULE_URL: 'http://10.0.0.7:8003/graphql' })).toMatchObject({
      serviceSecret: 'deployment-service-secret',
      subgraphUrlOverrides: { SCHEDULE_URL: 'http://10.0.0.7:8003/graphql' },
    });
    expect(() => loadToolConfig({ SERVICE_SECRET: 'short' })).toThrow(/SERVICE_SECRET/);
    // How schema:publish tries a subgraph's own subscriptions: as the gateway would, by the same variable.
    expect(loadToolConfig({ ...tool, ANNOUNCEMENTS_SUBSCRIPTIONS: 'sse' }).subgraphSubscriptions).toEqual({ ANNOUNCEMENTS_SUBSCRIPTIONS: 'sse' });
    expect(() => loadToolConfig({ ...tool, ANNOUNCEMENTS_SUBSCRIPTIONS: 'websocket' })).toThrow(/ANNOUNCEMENTS_SUBSCRIPTIONS: must be ws or sse/);
  });

  it("sends a subgraph to the <NAME>_URL of the gateway's config", async () => {
    const composed = compose([{ name: 'a', url: 'http://127.0.0.1:9/graphql', sdl: 'type Query { hello: String }' }]);
    if (!composed.ok) throw new Error(formatProblems(composed.problems));
    // Built, not listening: nothing here needs a port.
    const gateway = await buildGateway(testConfig('gateway', 'pglite', undefined, { A_URL: 'http://10.1.1.1:4101/graphql' }), {
      supergraphSdl: composed.supergraphSdl,
      live: false,
    });
    try {
      expect(gateway.subgraphs.get('a')).toBe('http://10.1.1.1:4101/graphql');
    } finally {
      await gateway.close();
    }
  });
});

describe('operation limits', () => {
  const schema = buildSchema('type Query { node: Node } type Node { id: ID child: Node }');
  const errorsOf = (query: string) => validate(schema, parse(query), [operationLimitsRule({ maxDepth: 4, maxAliases: 3 })]).map((e) => e.message);

  it('counts depth through fragments and aliases per place a fragment is spread', () => {
    expect(errorsOf('{ node { child { child { id } } } }')).toEqual([]);
    expect(errorsOf('{ node { child { child { child { id } } } } }')).toEqual(['The operation is nested more than 4 levels deep']);
    expect(errorsOf('query Q { node { ...F } } fragment F on Node { child { child { child { id } } } }')).toEqual([
      'Operation "Q" is nested more than 4 levels deep',
    ]);
    expect(errorsOf('{ node { ...F } } fragment F on Node { a: id b: id }')).toEqual([]);
    expect(errorsOf('{ n: node { ...F } m: node { ...F } } fragment F on Node { a: id }')).toEqual(['The operation uses more than 3 aliases']);
  });

  it('measures each fragment once, so fragments spreading each other stay cheap', () => {
    let doc = '{ node { ...F0 } } fragment F0 on Node { id }';
    for (let i = 1; i < 60; i++)
      doc = doc.replace('{ node { ...F' + (i - 1) + ' } }', `{ node { ...F${i} } }`) + ` fragment F${i} on Node { ...F${i - 1} ...F${i - 1} }`;
    const started = performance.now();
    expect(errorsOf(doc)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
