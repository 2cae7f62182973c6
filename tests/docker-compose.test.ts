// docker-compose.yml and the Dockerfile checked against what the code really reads and
// serves (no Docker engine needed): service names, ports, environment variables, the
// docker supergraph's routing URLs, health checks, start order and entry files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse as parseGraphQL, type ConstArgumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
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
const FITSYNC: ServiceName[] = [...SUBGRAPHS, 'gateway'];
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
  it('runs exactly the five subgraphs, the gateway, Postgres and Redis', () => {
    expect(Object.keys(services).sort()).toEqual([...SUBGRAPHS, 'gateway', 'postgres', 'redis'].sort());
    expect(services.postgres).toMatchObject({ image: expect.stringMatching(/^postgres:16/) });
    expect(services.redis).toMatchObject({ image: expect.stringMatching(/^redis:7/) });
  });

  it.each(FITSYNC)('%s is built from the Dockerfile and starts an entry file that exists', (name) => {
    const s = services[name];
    const context = typeof s.build === 'string' ? s.build : s.build?.context;
    expect(context).toBe('.');
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(s.command?.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    const entry = name === 'gateway' ? 'gateway/src/index.ts' : `subgraphs/${name}/src/index.ts`;
    expect(s.command?.[3]).toBe(entry);
    expect(existsSync(join(root, entry)), `${entry} exists`).toBe(true);
  });

  it.each(FITSYNC)('%s listens and is published on its port from DEFAULT_PORTS', (name) => {
    const port = DEFAULT_PORTS[name];
    expect(containerEnv(name)[portVariable(name)]).toBe(String(port));
    const published = (services[name].ports ?? []).map((p) => String(p).split(':').slice(-2).map(Number));
    expect(published).toEqual([[port, port]]);
  });

  it('names only environment variables the services read (CONFIG_VARIABLES)', () => {
    for (const name of FITSYNC) {
      const unknown = Object.keys(services[name].environment ?? {}).filter((v) => !CONFIG_VARIABLES.includes(v));
      expect(unknown, `${name}: variables no FitSync service reads`).toEqual([]);
    }
    const fromHost = [...composeText.matchAll(REQUIRED)].map((m) => m[1]);
    const unknownHost = fromHost.filter((v) => !CONFIG_VARIABLES.includes(v) && !COMPOSE_ONLY_VARIABLES.includes(v));
    expect(unknownHost, 'host variables used by docker-compose.yml').toEqual([]);
  });

  it('lets the host share the gateway supergraph through a Redis key, off by default', () => {
    expect(loadConfig('gateway', containerEnv('gateway')).supergraphRedisKey).toBeUndefined();
    const shared = loadConfig('gateway', containerEnv('gateway', { ...HOST_ENV, SUPERGRAPH_REDIS_KEY: 'fitsync:supergraph' }));
    expect(shared.supergraphRedisKey).toBe('fitsync:supergraph');
    expect(shared.supergraphPath).toBe('supergraph.docker.graphql');
  });

  it.each(FITSYNC)('%s starts with its compose environment in production, with secrets from the host', (name) => {
    const env = containerEnv(name);
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
    expect(loadConfig(name, containerEnv(name, { ...HOST_ENV, EVENTS_PREFIX: 'staging' })).eventsPrefix).toBe('staging');
    // No default for the secrets: compose refuses to start without them.
    for (const secret of ['JWT_SECRET', 'SERVICE_SECRET']) {
      expect(String(services[name].environment?.[secret])).toMatch(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`));
      expect(() => containerEnv(name, { ...HOST_ENV, [secret]: '' })).toThrow(`${secret} is required`);
    }
  });

  it.each(FITSYNC)('%s takes the previous secrets of a rotation from the host, none by default', (name) => {
    expect(loadConfig(name, containerEnv(name))).toMatchObject({ jwtSecretPrevious: undefined, serviceSecretPrevious: undefined });
    const rotating = { ...HOST_ENV, JWT_SECRET_PREVIOUS: 'compose-test-old-jwt-secret-0123', SERVICE_SECRET_PREVIOUS: 'compose-test-old-service-secret-01' };
    expect(loadConfig(name, containerEnv(name, rotating))).toMatchObject({
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
    for (const name of FITSYNC) {
      const test = services[name].healthcheck!.test.join(' ');
      // The slim image has no curl: node's fetch does the check.
      expect(test).toMatch(/^CMD node -e /);
      expect(test).toContain(`fetch('http://127.0.0.1:${DEFAULT_PORTS[name]}/health')`);
    }
  });

  it('starts each service only once what it needs is healthy', () => {
    const healthy = (deps: ComposeService['depends_on']) =>
      Object.entries(deps ?? {})
        .filter(([, d]) => d.condition === 'service_healthy')
        .map(([n]) => n)
        .sort();
    for (const name of SUBGRAPHS) expect(healthy(services[name].depends_on), name).toEqual(['postgres', 'redis']);
    expect(healthy(services.gateway.depends_on)).toEqual(['redis', ...SUBGRAPHS].sort());
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

  it('defaults to the gateway and leaves dependencies, data and history out of the context', () => {
    const cmd = lines.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', '--import', 'tsx', 'gateway/src/index.ts']);
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
