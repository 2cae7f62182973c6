import { z } from 'zod';
import { durationSeconds } from './clock.js';

/** The five subgraphs, in the order they are started and composed. */
export const SUBGRAPHS = ['users', 'training', 'schedule', 'progress', 'notifications'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];
export type ServiceName = SubgraphName | 'gateway';

/** Default ports from DESIGN.md section 1. */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  gateway: 4000,
  users: 3001,
  training: 3002,
  schedule: 8003,
  progress: 8004,
  notifications: 3005,
};

const DEV_JWT_SECRET = 'fitsync-dev-only-jwt-secret-do-not-deploy';
const DEV_SERVICE_SECRET = 'fitsync-dev-only-service-secret-do-not-deploy';

/** `USERS_PORT`, `GATEWAY_PORT`, ... */
export const portVariable = (service: ServiceName) => `${service.toUpperCase()}_PORT`;
/**
 * `USERS_URL`, ...: where the gateway and other services reach a subgraph (overrides
 * supergraph routing URLs). Any subgraph name maps to one: `my-inventory` to `MY_INVENTORY_URL`.
 */
export const urlVariable = (subgraph: string) => `${subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

/** `TRUSTED_DOCUMENTS`: ignore the registry of client documents (ids still resolve), serve and count unknown documents, or serve only registered ones. */
export const TRUSTED_DOCUMENT_MODES = ['off', 'allow', 'enforce'] as const;
export type TrustedDocumentsMode = (typeof TRUSTED_DOCUMENT_MODES)[number];

const port = z.coerce.number().int().min(0).max(65535);

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isDuration(value: string): boolean {
  try {
    return durationSeconds(value) > 0;
  } catch {
    return false;
  }
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/**
 * The one rule for an empty variable, whichever it is: unset. docker-compose passes
 * `${NAME:-}` through as an empty string, and `NAME=` in a shell means "not this time".
 */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

const baseSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z
    .string()
    .regex(
      /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/,
      'a host name or IP address',
    )
    .default('0.0.0.0'),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z
    .string()
    .refine((v) => hasProtocol(v, ['postgres:', 'postgresql:']), 'a postgres:// URL')
    .optional(),
  DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case SQL identifier')
    .optional(),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  REDIS_URL: z
    .string()
    .refine((v) => hasProtocol(v, ['redis:', 'rediss:']), 'a redis:// or rediss:// URL')
    .optional(),
  EVENTS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('fitsync'),
  JWT_SECRET: z.string().min(16).default(DEV_JWT_SECRET),
  JWT_TTL: z
    .string()
    .refine((v) => isDuration(v), 'a duration such as 90s, 30m, 12h or 7d')
    .default('12h'),
  SERVICE_SECRET: z.string().min(16).default(DEV_SERVICE_SECRET),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z.enum(['auto', 'never']).default('auto'),
  SUPERGRAPH_PATH: z.string().default('supergraph.graphql'),
  REMINDER_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  SUPERGRAPH_REDIS_KEY: z.string().optional(),
  MAX_DEPTH: z.coerce.number().int().min(1).max(1_000).default(15),
  MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(30),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
  MAX_ERRORS: z.coerce.number().int().min(1).max(10_000).default(100),
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => v.split(',').every((o) => isOrigin(o.trim()) || o.trim() === ''),
      'comma-separated origins such as https://app.example.com (scheme and host, no path)',
    )
    .optional(),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  TRUSTED_DOCUMENTS: z.enum(TRUSTED_DOCUMENT_MODES, { message: 'off, allow or enforce' }).optional(),
  TRUSTED_DOCUMENTS_DIR: z.string().default('operations'),
});

/**
 * Every environment variable the services read; docker-compose.yml and the README
 * are checked against this list.
 */
export const CONFIG_VARIABLES = [
  ...Object.keys(baseSchema.shape),
  ...(['gateway', 'users', 'training', 'schedule', 'progress', 'notifications'] as const).map((s) => `${s.toUpperCase()}_PORT`),
  ...(['users', 'training', 'schedule', 'progress', 'notifications'] as const).map((s) => `${s.toUpperCase()}_URL`),
];

export interface ServiceConfig {
  service: ServiceName;
  nodeEnv: string;
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** Postgres schema that holds this service's tables when DATABASE_URL is set. */
  dbSchema: string;
  dbPoolSize: number;
  redisUrl?: string;
  /** Prefix of every Redis stream and live channel: deployments sharing one Redis stay apart. */
  eventsPrefix: string;
  jwtSecret: string;
  jwtTtl: string;
  serviceSecret: string;
  logLevel: string;
  seedDemo: boolean;
  /** Gateway: the supergraph it serves. */
  supergraphPath: string;
  /** Gateway: a Redis key (with REDIS_URL) holding the supergraph, shared by replicas and watched for changes. */
  supergraphRedisKey?: string;
  /** Where every subgraph listens, from `<NAME>_URL` or localhost and its port. */
  subgraphUrls: Record<SubgraphName, string>;
  /**
   * The `<NAME>_URL` variables really set (not empty), by variable name (`urlVariable`), for
   * any subgraph a supergraph names: the gateway sends that subgraph's requests there
   * instead of its routing URL.
   */
  subgraphUrlOverrides: Readonly<Record<string, string>>;
  /** Gateway: limits on client operations (GraphQL Armor and the parser's token limit), on HTTP, SSE and WebSocket alike. */
  operationLimits: { maxDepth: number; maxAliases: number; maxDirectives: number; maxTokens: number };
  /** Gateway: errors in one response at most; the rest are left out. */
  maxErrors: number;
  /** Gateway: browser origins allowed by CORS (none by default: no CORS headers at all). */
  corsOrigins: string[];
  /**
   * Gateway: the registry of client documents (`operations/*.graphql` and the persisted-query
   * manifests under `operations/trusted/`) and what to do with a document outside it.
   * `mode` defaults to `enforce` in production, else `allow`.
   */
  trustedDocuments: { mode: TrustedDocumentsMode; dir: string };
  /** In production, the bearer token that `/metrics` and the detail of `/ready` require. */
  metricsToken?: string;
  /** Schedule: how often it looks for bookings due their 24-hour reminder; 0 turns the scheduler off. */
  reminderIntervalMs: number;
}

export class ConfigError extends Error {}

/** Every problem at once, one variable a line. */
const invalid = (what: string, error: z.ZodError) => new ConfigError(`${what}:\n${error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);

const SECRET_VARIABLES = new Set(['JWT_SECRET', 'SERVICE_SECRET', 'METRICS_TOKEN', 'DATABASE_URL', 'REDIS_URL']);

/**
 * Reads the environment once, at start-up, and fails with every problem at once, one
 * variable a line (each named), rather than at the first request that needs a value. An
 * empty variable is unset.
 */
export function loadConfig(service: ServiceName, environment: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const env = withoutEmpty(environment);
  const problems: string[] = [];
  const parsed = baseSchema.safeParse(env);
  if (!parsed.success) {
    // A secret (or a URL with a password in it) is never echoed into logs.
    const shown = (name: string) => (SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(env[name])})`);
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}${i.path.length ? shown(String(i.path[0])) : ''}`));
  }
  const production = (env.NODE_ENV ?? 'development') === 'production';
  if (production && (env.JWT_SECRET === undefined || env.JWT_SECRET === DEV_JWT_SECRET)) {
    problems.push('JWT_SECRET: must be set when NODE_ENV=production (the built-in value is for development only)');
  }
  if (production && (env.SERVICE_SECRET === undefined || env.SERVICE_SECRET === DEV_SERVICE_SECRET)) {
    problems.push('SERVICE_SECRET: must be set when NODE_ENV=production (the built-in value is for development only)');
  }
  const ports = {} as Record<ServiceName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as ServiceName[]) {
    const raw = env[portVariable(name)];
    const p = port.safeParse(raw ?? DEFAULT_PORTS[name]);
    if (p.success) ports[name] = p.data;
    else problems.push(`${portVariable(name)}: must be a port number (0 to 65535), got ${JSON.stringify(raw)}`);
  }
  const subgraphUrlOverrides = urlOverrides(env);
  // Ours must be URLs; another `<NAME>_URL` that is not one belongs to other software
  // (Vite sets BASE_URL=/ for every process it starts) and names no subgraph: left out.
  const ours = new Set<string>(SUBGRAPHS.map(urlVariable));
  for (const [name, url] of Object.entries(subgraphUrlOverrides)) {
    if (hasProtocol(url, ['http:', 'https:'])) continue;
    if (ours.has(name)) problems.push(`${name}: must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
    else delete subgraphUrlOverrides[name];
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration for ${service}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const e = parsed.data;
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, subgraphUrlOverrides[urlVariable(name)] ?? `http://127.0.0.1:${ports[name]}/graphql`]),
  ) as Record<SubgraphName, string>;
  return {
    service,
    nodeEnv: e.NODE_ENV,
    production,
    host: e.HOST,
    port: ports[service],
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    dbSchema: e.DB_SCHEMA ?? service,
    dbPoolSize: e.DB_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    eventsPrefix: e.EVENTS_PREFIX,
    jwtSecret: e.JWT_SECRET,
    jwtTtl: e.JWT_TTL,
    serviceSecret: e.SERVICE_SECRET,
    logLevel: e.LOG_LEVEL,
    seedDemo: !production && e.SEED_DEMO === 'auto',
    supergraphPath: e.SUPERGRAPH_PATH,
    supergraphRedisKey: e.SUPERGRAPH_REDIS_KEY,
    subgraphUrls,
    subgraphUrlOverrides,
    reminderIntervalMs: e.REMINDER_INTERVAL_MS,
    operationLimits: { maxDepth: e.MAX_DEPTH, maxAliases: e.MAX_ALIASES, maxDirectives: e.MAX_DIRECTIVES, maxTokens: e.MAX_TOKENS },
    maxErrors: e.MAX_ERRORS,
    corsOrigins: (e.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    metricsToken: e.METRICS_TOKEN,
    trustedDocuments: { mode: e.TRUSTED_DOCUMENTS ?? (production ? 'enforce' : 'allow'), dir: e.TRUSTED_DOCUMENTS_DIR },
  };
}

/** `<NAME>_URL` variables that are set (not empty), other than the ones naming servers (DATABASE_URL, REDIS_URL). */
function urlOverrides(env: NodeJS.ProcessEnv): Record<string, string> {
  const servers = new Set(Object.keys(baseSchema.shape));
  const overrides: Record<string, string> = {};
  for (const [name, url] of Object.entries(env)) {
    if (url !== undefined && name.endsWith('_URL') && /^[A-Z0-9_]+$/.test(name) && !servers.has(name)) overrides[name] = url;
  }
  return overrides;
}

const toolSchema = baseSchema.pick({ REDIS_URL: true, SUPERGRAPH_REDIS_KEY: true, EVENTS_PREFIX: true }).extend({
  CI: z.string().optional(),
  SCHEMA_AUTHOR: z.string().optional(),
  GITHUB_ACTOR: z.string().optional(),
});

/** What the repository's scripts (schema:publish, codegen:check, ...) read, beyond a service's config. */
export interface ToolConfig {
  /** Running in CI: `CI` is set (GitHub Actions and most CI systems set it), and not to `false` or `0`. */
  ci: boolean;
  /** Who a schema publish or rollback is recorded as: SCHEMA_AUTHOR, else GITHUB_ACTOR; unset when neither is. */
  schemaAuthor?: string;
  /** With `supergraphRedisKey`: where schema:publish and schema:rollback tell the gateways of a new supergraph. */
  redisUrl?: string;
  supergraphRedisKey?: string;
  /** With `redisUrl`: the deployment's prefix, under which operations:register tells the gateways of a new manifest. */
  eventsPrefix: string;
}

/**
 * The scripts' configuration, by the same rules as the services' where they share a
 * variable (REDIS_URL, SUPERGRAPH_REDIS_KEY, EVENTS_PREFIX). Only these variables are read and checked,
 * so a script runs where a service's secrets are not set.
 */
export function loadToolConfig(env: NodeJS.ProcessEnv = process.env): ToolConfig {
  const parsed = toolSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) throw invalid('invalid configuration', parsed.error);
  const e = parsed.data;
  return {
    ci: e.CI !== undefined && e.CI !== 'false' && e.CI !== '0',
    schemaAuthor: e.SCHEMA_AUTHOR ?? e.GITHUB_ACTOR,
    redisUrl: e.REDIS_URL,
    supergraphRedisKey: e.SUPERGRAPH_REDIS_KEY,
    eventsPrefix: e.EVENTS_PREFIX,
  };
}
