// docker-compose.yml and the Dockerfile checked against what the code really reads and
// serves (no Docker engine needed): service names, ports, environment variables, the
// docker supergraph's routing URLs, health checks, start order and entry files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse as parseGraphQL, type ConstArgumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BODY_LIMIT } from '@fitsync/gateway';
import { CONFIG_VARIABLES, DEFAULT_PORTS, SUBGRAPHS, loadConfig, portVariable, urlVariable, type ServiceName } from '@fitsync/service-kit';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  build?: string | { context: string; dockerfile?: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const composeText = read('docker-compose.yml');
// Compose merges `<<: *anchor` keys (YAML 1.1 merge keys).
const compose = parseYaml(composeText, { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
/** The gateway replicas behind the proxy: the same service twice. */
const GATEWAYS = ['gateway', 'gateway-2'];
/** Compose services running FitSync code, and the service (the FitSync process) each one is. */
const CONTAINERS: [string, ServiceName][] = [
  ...SUBGRAPHS.map((s): [string, ServiceName] => [s, s]),
  ...GATEWAYS.map((g): [string, ServiceName] => [g, 'gateway']),
];
/** Variables docker-compose.yml may take from the host that no FitSync service reads itself. */
const COMPOSE_ONLY_VARIABLES = ['POSTGRES_PASSWORD'];

const REQUIRED = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g;

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` against a host environment. */
function interpolate(value: string, host: Record<string, string>): string {
  return value.replace(REQUIRED, (_m, name: string, op?: string, arg?: string) => {
    const set = host[name];
    if (set) return set;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? arg! : '';
  });
}

/** The gateway's own limit on request bodies (BODY_LIMIT, in megabytes), over which it answers PAYLOAD_TOO_LARGE. */
const GATEWAY_BODY_LIMIT_BYTES = Number(/^(\d+)mb$/.exec(BODY_LIMIT)![1]) * 1024 * 1024;

const HOST_ENV = {
  JWT_SECRET: 'compose-test-jwt-secret-0123456789',
  SERVICE_SECRET: 'compose-test-service-secret-0123456789',
  POSTGRES_PASSWORD: 'compose-test-password',
};

/** A service's environment as its container sees it, after interpolation. */
function containerEnv(name: string, host: Record<string, string> = HOST_ENV): Record<string, string> {
  return Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(String(v), host)]));
}

/** `routing_url` per subgraph in a rover supergraph config. */
function routingUrls(configPath: string): Record<string, string> {
  const config = parseYaml(read(configPath)) as { subgraphs: Record<string, { routing_url: string }> };
  return Object.fromEntries(Object.entries(config.subgraphs).map(([name, s]) => [name, s.routing_url]));
}

/** `join__Graph` values of a composed supergraph: subgraph name -> URL the gateway routes to. */
function joinGraphUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const def of parseGraphQL(supergraphSdl).definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const directive = value.directives?.find((d) => d.name.value === 'join__graph');
      const arg = (n: string) => {
        const a = directive?.arguments?.find((x: ConstArgumentNode) => x.name.value === n);
        return a?.value.kind === Kind.STRING ? a.value.value : undefined;
      };
      urls[arg('name')!] = arg('url')!;
    }
  }
  return urls;
}

const dockerRouting = routingUrls('supergraph.docker.yaml');

describe('docker-compose.yml', () => {
  it('runs exactly the five subgraphs, two gateway replicas behind a proxy, Postgres and Redis', () => {
    expect(Object.keys(services).sort()).toEqual([...SUBGRAPHS, ...GATEWAYS, 'proxy', 'postgres', 'redis'].sort());
    expect(services.proxy).toMatchObject({ image: expect.stringMatching(/^nginx:1\.(2[89]|[3-9]\d)-alpine$/) });
    expect(services.postgres).toMatchObject({ image: expect.stringMatching(/^postgres:16/) });
    expect(services.redis).toMatchObject({ image: expect.stringMatching(/^redis:7/) });
  });

  it.each(CONTAINERS)('%s is built from the Dockerfile and starts an entry file that exists', (container, name) => {
    const s = services[container];
    const context = typeof s.build === 'string' ? s.build : s.build?.context;
    expect(context).toBe('.');
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(s.command?.slice(0, 3)).toEqual(['node', '--import', 'tsx/esm']);
    const entry = name === 'gateway' ? 'gateway/src/index.ts' : `subgraphs/${name}/src/index.ts`;
    expect(s.command?.[3]).toBe(entry);
    expect(existsSync(join(root, entry)), `${entry} exists`).toBe(true);
  });

  it.each(SUBGRAPHS)('%s listens and is published on its port from DEFAULT_PORTS', (name) => {
    const port = DEFAULT_PORTS[name];
    expect(containerEnv(name)[portVariable(name)]).toBe(String(port));
    const published = (services[name].ports ?? []).map((p) => String(p).split(':').slice(-2).map(Number));
    expect(published).toEqual([[port, port]]);
  });

  it('publishes the proxy on the gateway port, and the gateway replicas, on their port from DEFAULT_PORTS, only to it', () => {
    const port = DEFAULT_PORTS.gateway;
    for (const gateway of GATEWAYS) {
      expect(containerEnv(gateway)[portVariable('gateway')]).toBe(String(port));
      expect(services[gateway].ports, gateway).toBeUndefined();
    }
    expect(services.proxy.ports).toEqual([`${port}:${port}`]);
  });

  it('names only environment variables the services read (CONFIG_VARIABLES)', () => {
    for (const [name] of CONTAINERS) {
      const unknown = Object.keys(services[name].environment ?? {}).filter((v) => !CONFIG_VARIABLES.includes(v));
      expect(unknown, `${name}: variables no FitSync service reads`).toEqual([]);
    }
    const fromHost = [...composeText.matchAll(REQUIRED)].map((m) => m[1]);
    const unknownHost = fromHost.filter((v) => !CONFIG_VARIABLES.includes(v) && !COMPOSE_ONLY_VARIABLES.includes(v));
    expect(unknownHost, 'host variables used by docker-compose.yml').toEqual([]);
  });

  it.each(GATEWAYS)('lets the host share the supergraph of %s through a Redis key, off by default', (gateway) => {
    expect(loadConfig('gateway', containerEnv(gateway)).supergraphRedisKey).toBeUndefined();
    const shared = loadConfig('gateway', containerEnv(gateway, { ...HOST_ENV, SUPERGRAPH_REDIS_KEY: 'fitsync:supergraph' }));
    expect(shared.supergraphRedisKey).toBe('fitsync:supergraph');
    expect(shared.supergraphPath).toBe('supergraph.docker.graphql');
  });

  it.each(GATEWAYS)('%s serves no GraphiQL unless the host sets GRAPHIQL_PATH, as the header comment says', (gateway) => {
    expect(loadConfig('gateway', containerEnv(gateway)).graphiqlPath).toBeUndefined();
    expect(loadConfig('gateway', containerEnv(gateway, { ...HOST_ENV, GRAPHIQL_PATH: '/graphiql' })).graphiqlPath).toBe('/graphiql');
    // Every URL the comments tell a user to open works as they say: /health always, /graphiql with GRAPHIQL_PATH=/graphiql.
    const comments = composeText
      .split('\n')
      .filter((l) => l.trimStart().startsWith('#'))
      .join('\n');
    const paths = [...comments.matchAll(/http:\/\/localhost:(\d+)(\/[A-Za-z0-9/_-]*)/g)].map((m) => [Number(m[1]), m[2]] as const);
    expect(paths.length).toBeGreaterThan(0);
    for (const [port, path] of paths) {
      expect(port).toBe(DEFAULT_PORTS.gateway);
      expect(['/health', '/graphiql']).toContain(path);
    }
    if (paths.some(([, path]) => path === '/graphiql')) expect(comments).toContain('GRAPHIQL_PATH=/graphiql');
  });

  it.each(CONTAINERS)('%s starts with its compose environment in production, with secrets from the host', (container, name) => {
    const env = containerEnv(container);
    const config = loadConfig(name, env);
    expect(config.production).toBe(true);
    expect(config.seedDemo).toBe(false);
    expect(config.port).toBe(DEFAULT_PORTS[name]);
    expect(config.jwtSecret).toBe(HOST_ENV.JWT_SECRET);
    expect(config.serviceSecret).toBe(HOST_ENV.SERVICE_SECRET);
    // Where this service reaches the subgraphs: the compose network, as in supergraph.docker.yaml.
    expect(config.subgraphUrls).toEqual(dockerRouting);
    expect(new URL(config.redisUrl!).hostname).toBe('redis');
    // One prefix for the whole deployment, or services would not hear each other's events.
    expect(config.eventsPrefix).toBe('fitsync');
    expect(loadConfig(name, containerEnv(container, { ...HOST_ENV, EVENTS_PREFIX: 'staging' })).eventsPrefix).toBe('staging');
    // No default for the secrets: compose refuses to start without them.
    for (const secret of ['JWT_SECRET', 'SERVICE_SECRET']) {
      expect(String(services[container].environment?.[secret])).toMatch(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`));
      expect(() => containerEnv(container, { ...HOST_ENV, [secret]: '' })).toThrow(`${secret} is required`);
    }
  });

  it.each(CONTAINERS)('%s takes the previous secrets of a rotation from the host, none by default', (container, name) => {
    expect(loadConfig(name, containerEnv(container))).toMatchObject({ jwtSecretPrevious: undefined, serviceSecretPrevious: undefined });
    const rotating = { ...HOST_ENV, JWT_SECRET_PREVIOUS: 'compose-test-old-jwt-secret-0123', SERVICE_SECRET_PREVIOUS: 'compose-test-old-service-secret-01' };
    expect(loadConfig(name, containerEnv(container, rotating))).toMatchObject({
      jwtSecretPrevious: rotating.JWT_SECRET_PREVIOUS,
      serviceSecretPrevious: rotating.SERVICE_SECRET_PREVIOUS,
    });
  });

  it("lets the host point the gateway at an identity provider's JWKS, off by default", () => {
    expect(loadConfig('gateway', containerEnv('gateway')).externalJwt).toBeUndefined();
    const idp = { ...HOST_ENV, JWT_JWKS_URL: 'https://idp.example.com/jwks', JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'fitsync' };
    expect(loadConfig('gateway', containerEnv('gateway', idp)).externalJwt).toMatchObject({
      jwksUrl: idp.JWT_JWKS_URL,
      roleClaim: 'role',
      subjectClaim: 'sub',
    });
  });

  it('gives every subgraph the compose Postgres, each in its own schema', () => {
    const pg = containerEnv('postgres');
    const schemas = SUBGRAPHS.map((name) => {
      const config = loadConfig(name, containerEnv(name));
      const url = new URL(config.databaseUrl!);
      expect(url.hostname, name).toBe('postgres');
      expect(url.port || '5432', name).toBe('5432');
      expect(decodeURIComponent(url.username), name).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password), name).toBe(pg.POSTGRES_PASSWORD);
      expect(url.pathname, name).toBe(`/${pg.POSTGRES_DB}`);
      return config.dbSchema;
    });
    expect(schemas).toEqual([...SUBGRAPHS]);
    // The gateway owns no data.
    expect(containerEnv('gateway').DATABASE_URL).toBeUndefined();
  });

  it('serves the gateway a supergraph whose routing URLs are the compose services', () => {
    const path = containerEnv('gateway').SUPERGRAPH_PATH;
    expect(path).toBe('supergraph.docker.graphql');
    expect(existsSync(join(root, path))).toBe(true);
    const urls = joinGraphUrls(read(path));
    expect(urls).toEqual(dockerRouting);
    for (const name of SUBGRAPHS) {
      const url = new URL(urls[name]);
      expect(url.hostname).toBe(name);
      expect(Number(url.port)).toBe(DEFAULT_PORTS[name]);
      expect(url.pathname).toBe('/graphql');
      expect(containerEnv('gateway')[urlVariable(name)]).toBe(urls[name]);
    }
    // Same graph as the one-machine supergraph, only the routing differs.
    expect(Object.keys(routingUrls('supergraph.yaml')).sort()).toEqual(Object.keys(dockerRouting).sort());
  });

  it('health-checks every service, the FitSync ones on their own /health', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} has a healthcheck`).toBeGreaterThan(0);
    }
    expect(services.postgres.healthcheck!.test).toContain('pg_isready');
    expect(services.redis.healthcheck!.test.slice(-2)).toEqual(['redis-cli', 'ping']);
    for (const [container, name] of CONTAINERS) {
      const test = services[container].healthcheck!.test.join(' ');
      // The slim image has no curl: node's fetch does the check.
      expect(test).toMatch(/^CMD node -e /);
      expect(test).toContain(`fetch('http://127.0.0.1:${DEFAULT_PORTS[name]}/health')`);
    }
    // The proxy is healthy when a gateway answers through it (the alpine image has busybox wget).
    expect(services.proxy.healthcheck!.test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${DEFAULT_PORTS.gateway}/health`]);
  });

  it('starts each service only once what it needs is healthy', () => {
    const healthy = (deps: ComposeService['depends_on']) =>
      Object.entries(deps ?? {})
        .filter(([, d]) => d.condition === 'service_healthy')
        .map(([n]) => n)
        .sort();
    for (const name of SUBGRAPHS) expect(healthy(services[name].depends_on), name).toEqual(['postgres', 'redis']);
    for (const gateway of GATEWAYS) expect(healthy(services[gateway].depends_on), gateway).toEqual(['redis', ...SUBGRAPHS].sort());
    expect(healthy(services.proxy.depends_on)).toEqual([...GATEWAYS].sort());
  });
});

describe('the proxy in front of the gateway replicas (deploy/compose/nginx.conf)', () => {
  const mount = (services.proxy as ComposeService & { volumes: string[] }).volumes.find((v) => v.endsWith(':/etc/nginx/nginx.conf:ro'))!;
  const confPath = mount.split(':')[0].replace(/^\.\//, '');
  const conf = read(confPath);
  // The directives, comments left out.
  const directives = conf
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  const has = (directive: string) => directives.includes(directive);

  it('is mounted read-only from the repository', () => {
    expect(mount).toBe('./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(existsSync(join(root, confPath))).toBe(true);
  });

  it('balances over exactly the gateway replicas, on the port they listen on, found again by Docker DNS', () => {
    const servers = directives.filter((d) => d.startsWith('server ') && d.endsWith(';')).map((d) => d.split(/\s+/)[1]);
    expect(servers).toEqual(GATEWAYS.map((g) => `${g}:${containerEnv(g)[portVariable('gateway')]}`));
    expect(directives.filter((d) => d.startsWith('server ') && d.endsWith(';')).every((d) => d.includes(' resolve'))).toBe(true);
    expect(has('resolver 127.0.0.11 valid=10s ipv6=off;')).toBe(true);
    expect(has(`listen ${DEFAULT_PORTS.gateway};`)).toBe(true);
    expect(has('proxy_pass http://gateways;')).toBe(true);
  });

  it('passes WebSocket upgrades (graphql-ws) and unbuffered SSE, and never sends a request twice', () => {
    for (const d of [
      'proxy_http_version 1.1;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header Connection $connection_upgrade;',
      'proxy_buffering off;',
      'proxy_next_upstream error;',
    ]) {
      expect(has(d), d).toBe(true);
    }
  });

  it("hands the gateways the client's address, and the gateways trust that one hop", () => {
    // Replaced, not appended to: a client cannot put an address of its choosing in front.
    expect(has('proxy_set_header X-Forwarded-For $remote_addr;')).toBe(true);
    for (const gateway of GATEWAYS) expect(loadConfig('gateway', containerEnv(gateway)).rateLimits.trustProxy, gateway).toBe(1);
  });

  it('answers what it answers itself as GraphQL JSON with a code, and lets the gateways refuse large bodies themselves', () => {
    const answers = [...conf.matchAll(/return (\d{3}) '([^']+)';/g)].map((m) => [Number(m[1]), JSON.parse(m[2])] as const);
    expect(answers.map(([status]) => status).sort()).toEqual([400, 413, 503]);
    const codes = { 400: 'BAD_REQUEST', 413: 'PAYLOAD_TOO_LARGE', 503: 'SERVICE_UNAVAILABLE' } as Record<number, string>;
    for (const [status, body] of answers) {
      expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: codes[status] } }] });
    }
    for (const d of ['default_type application/json;', 'error_page 502 503 504 = @unavailable;', 'error_page 413 = @too_large;']) expect(has(d), d).toBe(true);
    const limit = /client_max_body_size (\d+)m;/.exec(conf);
    expect(Number(limit?.[1]) * 1024 * 1024).toBeGreaterThan(GATEWAY_BODY_LIMIT_BYTES);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').map((l) => l.trim());

  it('is one node:20-bookworm-slim image running as a non-root user', () => {
    expect(lines.find((l) => l.startsWith('FROM '))).toBe('FROM node:20-bookworm-slim');
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
  });

  it('copies every workspace manifest before npm ci', () => {
    const pkg = JSON.parse(read('package.json')) as { workspaces: string[] };
    const manifests = ['package.json', 'package-lock.json'];
    for (const pattern of pkg.workspaces) {
      const [dir, star] = pattern.split('/');
      if (star !== '*') {
        manifests.push(`${pattern}/package.json`);
        continue;
      }
      for (const name of readdirSafe(dir)) {
        if (existsSync(join(root, dir, name, 'package.json'))) manifests.push(`${dir}/${name}/package.json`);
      }
    }
    const npmCi = lines.findIndex((l) => /^RUN npm ci\b/.test(l));
    expect(npmCi).toBeGreaterThan(0);
    const copied = lines
      .slice(0, npmCi)
      .filter((l) => l.startsWith('COPY '))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(manifests.filter((m) => !copied.includes(m))).toEqual([]);
  });

  it("builds the gateway's GraphiQL bundle once the sources are in (npm ci ran before they were), and leaves a local one out", () => {
    const copyAll = lines.indexOf('COPY . .');
    const build = lines.indexOf('RUN npm run graphiql:build');
    expect(copyAll).toBeGreaterThan(0);
    expect(build).toBeGreaterThan(copyAll);
    expect(lines.findIndex((l) => l.startsWith('USER '))).toBeGreaterThan(build);
    expect(read('.dockerignore').split('\n')).toContain('gateway/graphiql/dist');
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['graphiql:build']).toBeDefined();
  });

  it('defaults to the gateway and leaves dependencies, data and history out of the context', () => {
    const cmd = lines.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', '--import', 'tsx/esm', 'gateway/src/index.ts']);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', '.git']));
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(join(root, dir));
  } catch {
    return [];
  }
}
