import { z } from 'zod';
import { durationSeconds } from './clock.js';
import { rateLimitVariables, readRateLimits, type RateLimitConfig } from './rate-limits.js';

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
 * A per-subgraph variable: the subgraph's name upper-cased, every character other than a
 * letter or digit as `_`, then `_<suffix>`. Any subgraph name maps to one: `my-inventory`
 * and `URL` give `MY_INVENTORY_URL`.
 */
export const subgraphVariable = (subgraph: string, suffix: string) => `${subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${suffix}`;

/** `USERS_URL`, ...: where the gateway and other services reach a subgraph (overrides supergraph routing URLs). */
export const urlVariable = (subgraph: string) => subgraphVariable(subgraph, 'URL');

/** `USERS_TIMEOUT_MS`, ...: one subgraph's request deadline. */
export const timeoutVariable = (subgraph: string) => subgraphVariable(subgraph, 'TIMEOUT_MS');

/**
 * `ANNOUNCEMENTS_SUBSCRIPTIONS`, ...: how the gateway reaches the Subscription fields a
 * subgraph serves itself (those without `@liveTopic`): `ws` (graphql-ws at the routing URL,
 * ws:// or wss://) or `sse` (graphql-sse at the routing URL). Any subgraph name maps to one,
 * as for `<NAME>_URL`.
 */
export const subscriptionsVariable = (subgraph: string) => subgraphVariable(subgraph, 'SUBSCRIPTIONS');

/** The protocols the gateway speaks to a subgraph that serves its own subscriptions. */
export const SUBSCRIPTION_TRANSPORTS = ['ws', 'sse'] as const;
export type SubscriptionTransport = (typeof SUBSCRIPTION_TRANSPORTS)[number];

/** `USERS_HEALTH_URL`, ...: where the gateway's `/ready` probes a subgraph instead of sending it `{ __typename }`. */
export const healthUrlVariable = (subgraph: string) => subgraphVariable(subgraph, 'HEALTH_URL');

/** `TRUSTED_DOCUMENTS`: ignore the registry of client documents (ids still resolve), serve and count unknown documents, or serve only registered ones. */
export const TRUSTED_DOCUMENT_MODES = ['off', 'allow', 'enforce'] as const;
export type TrustedDocumentsMode = (typeof TRUSTED_DOCUMENT_MODES)[number];

const port = z.coerce.number().int().min(0).max(65535);

/**
 * MAX_OPERATION_COST unless set: about three times the costlier dashboard (ClientDashboard
 * costs 824, TrainerDashboard 663: the README's "Demand control", kept true by
 * gateway/src/__tests__/cost.test.ts), so the dashboards and pages of a hundred pass, and
 * `first: 100` lists nested three deep (a million rows) do not.
 */
export const DEFAULT_MAX_OPERATION_COST = 2_500;

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
  JWT_SECRET_PREVIOUS: z.string().min(16).optional(),
  SERVICE_SECRET_PREVIOUS: z.string().min(16).optional(),
  JWT_JWKS_URL: z
    .string()
    .refine((v) => hasProtocol(v, ['http:', 'https:']), 'an http:// or https:// URL')
    .optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z
    .string()
    .refine((v) => v.split(',').some((a) => a.trim() !== ''), 'one audience or several, comma-separated')
    .optional(),
  JWT_ROLE_CLAIM: z.string().default('role'),
  JWT_SUBJECT_CLAIM: z.string().default('sub'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z.enum(['auto', 'never']).default('auto'),
  SUPERGRAPH_PATH: z.string().default('supergraph.graphql'),
  REMINDER_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  SMTP_URL: z
    .string()
    .refine((v) => hasProtocol(v, ['smtp:', 'smtps:']), 'an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('FitSync <no-reply@fitsync.test>'),
  MAIL_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(5_000),
  PUBLIC_URL: z
    .string()
    .refine((v) => hasProtocol(v, ['http:', 'https:']), 'an http:// or https:// URL')
    .optional(),
  UNSUBSCRIBE_TTL: z
    .string()
    .refine((v) => isDuration(v), 'a duration such as 90s, 30m, 12h or 7d')
    .default('60d'),
  SUPERGRAPH_REDIS_KEY: z.string().optional(),
  MAX_DEPTH: z.coerce.number().int().min(1).max(1_000).default(15),
  MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(30),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
  MAX_ERRORS: z.coerce.number().int().min(1).max(10_000).default(100),
  MAX_OPERATION_COST: z.coerce.number().int().min(1).max(1_000_000_000).default(DEFAULT_MAX_OPERATION_COST),
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => v.split(',').every((o) => isOrigin(o.trim()) || o.trim() === ''),
      'comma-separated origins such as https://app.example.com (scheme and host, no path)',
    )
    .optional(),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(1).max(300_000).default(2_500),
  OPERATION_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(6_000),
  BREAKER_FAILURE_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  BREAKER_MIN_REQUESTS: z.coerce.number().int().min(1).max(100_000).default(5),
  BREAKER_WINDOW_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  BREAKER_COOLDOWN_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  SUBGRAPH_DEDUPLICATION: z.enum(['on', 'off']).default('on'),
  GATEWAY_DEFER_ENTITY_FETCHES: z.enum(['on', 'off']).default('on'),
  GATEWAY_SUBGRAPH_CLIENT: z.enum(['node', 'undici']).default('node'),
  IDEMPOTENCY_TTL: z
    .string()
    .refine((v) => isDuration(v), 'a duration such as 90s, 30m, 12h or 7d')
    .default('24h'),
  ...rateLimitVariables,
  TRUSTED_DOCUMENTS: z.enum(TRUSTED_DOCUMENT_MODES, { message: 'off, allow or enforce' }).optional(),
  TRUSTED_DOCUMENTS_DIR: z.string().default('operations'),
  GRAPHIQL_PATH: z
    .string()
    .regex(/^(?:off|(?:\/[A-Za-z0-9._~-]+)+)$/, 'off, or a path such as /graphiql (letters, digits, . _ ~ - between slashes)')
    .optional(),
});

/**
 * Every environment variable the services read; docker-compose.yml and the README
 * are checked against this list.
 */
export const CONFIG_VARIABLES = [
  ...Object.keys(baseSchema.shape),
  ...(['gateway', 'users', 'training', 'schedule', 'progress', 'notifications'] as const).map((s) => `${s.toUpperCase()}_PORT`),
  ...(['users', 'training', 'schedule', 'progress', 'notifications'] as const).map((s) => `${s.toUpperCase()}_URL`),
  ...SUBGRAPHS.map(timeoutVariable),
  ...SUBGRAPHS.map(healthUrlVariable),
  ...SUBGRAPHS.map(subscriptionsVariable),
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
  /** JWT_SECRET_PREVIOUS: during a rotation, user tokens signed with it are still accepted (never used to sign). */
  jwtSecretPrevious?: string;
  /** SERVICE_SECRET_PREVIOUS: during a rotation, service credentials signed with it are still accepted. */
  serviceSecretPrevious?: string;
  /** Gateway: user tokens of an external identity provider (JWT_JWKS_URL and its companions), besides FitSync's own. */
  externalJwt?: ExternalJwtConfig;
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
  /** Gateway: the static cost (`@cost` / `@listSize`) one operation may have; over it, COST_LIMIT_EXCEEDED. */
  maxOperationCost: number;
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
  /** Gateway: rate limits (login, register, operations, live connections) and TRUST_PROXY. */
  rateLimits: RateLimitConfig;
  /** Schedule: how often it looks for bookings due their 24-hour reminder; 0 turns the scheduler off. */
  reminderIntervalMs: number;
  /** Notifications: outgoing email (see `MailConfig`). */
  mail: MailConfig;
  /** Gateway: how long one subgraph request may take: `<NAME>_TIMEOUT_MS` (keyed by that variable's name), else SUBGRAPH_TIMEOUT_MS. See `subgraphTimeoutMs`. */
  subgraphTimeouts: { defaultMs: number; byVariable: Readonly<Record<string, number>> };
  /** Gateway: how long one operation may take in all; subgraph requests it has no time left for are not sent. */
  operationTimeoutMs: number;
  /** Gateway: the circuit breaker in front of each subgraph. */
  breaker: BreakerConfig;
  /** Gateway: identical subgraph queries in flight at once are sent once and their answer shared (never mutations). */
  deduplicateSubgraphRequests: boolean;
  /** Gateway: query plans rewritten so entity fetches to one subgraph at different stages leave together where that is safe (GATEWAY_DEFER_ENTITY_FETCHES). */
  deferEntityFetches: boolean;
  /** Gateway: the HTTP client of its subgraph requests and `/ready` probes (GATEWAY_SUBGRAPH_CLIENT): node:http's Agent or undici's. */
  subgraphClient: 'node' | 'undici';
  /** Gateway: how long a mutation's `Idempotency-Key` and its answer are kept. */
  idempotencyTtlMs: number;
  /** Gateway: `<NAME>_HEALTH_URL` variables set, by variable name (see `healthUrlVariable`). */
  subgraphHealthUrls: Readonly<Record<string, string>>;
  /** Gateway: `<NAME>_SUBSCRIPTIONS` variables set, by variable name (see `subscriptionTransport`). */
  subgraphSubscriptions: Readonly<Record<string, SubscriptionTransport>>;
  /**
   * Gateway: where browsers get GraphiQL (GRAPHIQL_PATH): `/graphql` outside production (for a
   * GET that asks for HTML), none in production unless set; `off` turns it off everywhere.
   */
  graphiqlPath?: string;
}

/** Notifications: where email goes, from whom, how often the sender looks for mail due, and what its links point at. */
export interface MailConfig {
  /** SMTP_URL: the SMTP server (`smtp://user:pass@host:587`, `smtps://...`); unset, mail is written to `<dataDir>/mail/*.eml`. */
  smtpUrl?: string;
  /** MAIL_FROM: the From of every email (`Name <address>`). */
  from: string;
  /** MAIL_INTERVAL_MS: how often the sender looks for mail due; 0 turns it off. */
  intervalMs: number;
  /** PUBLIC_URL: where people reach the gateway from outside (links in emails); default `http://localhost:<GATEWAY_PORT>`. */
  publicUrl: string;
  /** UNSUBSCRIBE_TTL: how long the unsubscribe link of an email works. */
  unsubscribeTtl: string;
}

/** When a breaker opens (that share of failures over at least `minRequests` in `windowMs`) and how long it stays open before a probe. */
export interface BreakerConfig {
  failurePercent: number;
  minRequests: number;
  windowMs: number;
  cooldownMs: number;
}

/** How the gateway subscribes to a subgraph that serves its own subscriptions: `<NAME>_SUBSCRIPTIONS`, else graphql-ws. */
export const subscriptionTransport = (config: Pick<ServiceConfig, 'subgraphSubscriptions'>, subgraph: string): SubscriptionTransport =>
  config.subgraphSubscriptions[subscriptionsVariable(subgraph)] ?? 'ws';

/** One subgraph's request deadline under this configuration. */
export const subgraphTimeoutMs = (config: Pick<ServiceConfig, 'subgraphTimeouts'>, subgraph: string) =>
  config.subgraphTimeouts.byVariable[timeoutVariable(subgraph)] ?? config.subgraphTimeouts.defaultMs;

/** An identity provider whose tokens the gateway accepts: keys from its JWKS, RS256 or ES256. */
export interface ExternalJwtConfig {
  jwksUrl: string;
  issuer: string;
  /** Any of these in the token's `aud`. */
  audience: string[];
  /** The claim holding the FitSync role (CLIENT, TRAINER, ADMIN; a string or an array); a dotted path reaches into objects. */
  roleClaim: string;
  /** The claim holding the FitSync user id (a UUID). */
  subjectClaim: string;
}

export class ConfigError extends Error {}

/** Every problem at once, one variable a line. */
const invalid = (what: string, error: z.ZodError) => new ConfigError(`${what}:\n${error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);

/** Paths of the gateway that GRAPHIQL_PATH cannot take (the GraphiQL files are served under the last). */
export const GRAPHIQL_RESERVED_PATHS = ['/health', '/ready', '/metrics', '/graphiql-assets'];

/**
 * The variables that hold secrets (or URLs that may hold passwords): never echoed into logs,
 * and kept in a Kubernetes Secret, never in a manifest (tests/kubernetes.test.ts).
 */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'JWT_SECRET',
  'SERVICE_SECRET',
  'JWT_SECRET_PREVIOUS',
  'SERVICE_SECRET_PREVIOUS',
  'METRICS_TOKEN',
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
]);

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
  problems.push(...rotationProblems(env, production), ...externalJwtProblems(env, production));
  const ports = {} as Record<ServiceName, number>;
  for (const name of Object.keys(DEFAULT_PORTS) as ServiceName[]) {
    const raw = env[portVariable(name)];
    const p = port.safeParse(raw ?? DEFAULT_PORTS[name]);
    if (p.success) ports[name] = p.data;
    else problems.push(`${portVariable(name)}: must be a port number (0 to 65535), got ${JSON.stringify(raw)}`);
  }
  const subgraphUrlOverrides = urlOverrides(env);
  // `<NAME>_HEALTH_URL` are health checks, not where a subgraph is.
  const subgraphHealthUrls: Record<string, string> = {};
  for (const [name, url] of Object.entries(subgraphUrlOverrides)) {
    if (!name.endsWith('_HEALTH_URL')) continue;
    delete subgraphUrlOverrides[name];
    if (hasProtocol(url, ['http:', 'https:'])) subgraphHealthUrls[name] = url;
    else problems.push(`${name}: must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  // Ours must be URLs; another `<NAME>_URL` that is not one belongs to other software
  // (Vite sets BASE_URL=/ for every process it starts) and names no subgraph: left out.
  const ours = new Set<string>(SUBGRAPHS.map(urlVariable));
  for (const [name, url] of Object.entries(subgraphUrlOverrides)) {
    if (hasProtocol(url, ['http:', 'https:'])) continue;
    if (ours.has(name)) problems.push(`${name}: must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
    else delete subgraphUrlOverrides[name];
  }
  const graphiql = env.GRAPHIQL_PATH;
  if (graphiql !== undefined && (graphiql.startsWith('/graphql/') || GRAPHIQL_RESERVED_PATHS.some((p) => graphiql === p || graphiql.startsWith(`${p}/`)))) {
    problems.push(`GRAPHIQL_PATH: must not be one of the gateway's own paths (${GRAPHIQL_RESERVED_PATHS.join(', ')}), got ${JSON.stringify(graphiql)}`);
  }
  const byVariable: Record<string, number> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!/^[A-Z0-9_]+_TIMEOUT_MS$/.test(name) || name in baseSchema.shape || raw === undefined) continue;
    const ms = Number(raw);
    if (Number.isInteger(ms) && ms >= 1 && ms <= 300_000) byVariable[name] = ms;
    else problems.push(`${name}: must be a whole number of milliseconds from 1 to 300000, got ${JSON.stringify(raw)}`);
  }
  const subgraphSubscriptions = subscriptionVariables(env, problems);
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
    jwtSecretPrevious: e.JWT_SECRET_PREVIOUS,
    serviceSecretPrevious: e.SERVICE_SECRET_PREVIOUS,
    externalJwt: e.JWT_JWKS_URL
      ? {
          jwksUrl: e.JWT_JWKS_URL,
          issuer: e.JWT_ISSUER!,
          audience: e
            .JWT_AUDIENCE!.split(',')
            .map((a) => a.trim())
            .filter(Boolean),
          roleClaim: e.JWT_ROLE_CLAIM,
          subjectClaim: e.JWT_SUBJECT_CLAIM,
        }
      : undefined,
    logLevel: e.LOG_LEVEL,
    seedDemo: !production && e.SEED_DEMO === 'auto',
    supergraphPath: e.SUPERGRAPH_PATH,
    supergraphRedisKey: e.SUPERGRAPH_REDIS_KEY,
    subgraphUrls,
    subgraphUrlOverrides,
    reminderIntervalMs: e.REMINDER_INTERVAL_MS,
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      intervalMs: e.MAIL_INTERVAL_MS,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${ports.gateway}`).replace(/\/+$/, ''),
      unsubscribeTtl: e.UNSUBSCRIBE_TTL,
    },
    operationLimits: { maxDepth: e.MAX_DEPTH, maxAliases: e.MAX_ALIASES, maxDirectives: e.MAX_DIRECTIVES, maxTokens: e.MAX_TOKENS },
    maxErrors: e.MAX_ERRORS,
    maxOperationCost: e.MAX_OPERATION_COST,
    corsOrigins: (e.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    metricsToken: e.METRICS_TOKEN,
    subgraphTimeouts: { defaultMs: e.SUBGRAPH_TIMEOUT_MS, byVariable },
    operationTimeoutMs: e.OPERATION_TIMEOUT_MS,
    breaker: {
      failurePercent: e.BREAKER_FAILURE_PERCENT,
      minRequests: e.BREAKER_MIN_REQUESTS,
      windowMs: e.BREAKER_WINDOW_MS,
      cooldownMs: e.BREAKER_COOLDOWN_MS,
    },
    deduplicateSubgraphRequests: e.SUBGRAPH_DEDUPLICATION === 'on',
    deferEntityFetches: e.GATEWAY_DEFER_ENTITY_FETCHES === 'on',
    subgraphClient: e.GATEWAY_SUBGRAPH_CLIENT,
    idempotencyTtlMs: durationSeconds(e.IDEMPOTENCY_TTL) * 1000,
    subgraphHealthUrls,
    subgraphSubscriptions,
    graphiqlPath: e.GRAPHIQL_PATH === 'off' ? undefined : (e.GRAPHIQL_PATH ?? (production ? undefined : '/graphql')),
    rateLimits: readRateLimits(e),
    trustedDocuments: { mode: e.TRUSTED_DOCUMENTS ?? (production ? 'enforce' : 'allow'), dir: e.TRUSTED_DOCUMENTS_DIR },
  };
}

/**
 * A previous secret is the other one accepted during a rotation: it must differ from the
 * current one (else the rotation rotates nothing) and, in production, be no built-in value.
 */
function rotationProblems(env: NodeJS.ProcessEnv, production: boolean): string[] {
  const problems: string[] = [];
  const pairs = [
    ['JWT_SECRET', DEV_JWT_SECRET],
    ['SERVICE_SECRET', DEV_SERVICE_SECRET],
  ] as const;
  for (const [name, devDefault] of pairs) {
    const previous = env[`${name}_PREVIOUS`];
    if (previous === undefined) continue;
    if (previous === (env[name] ?? devDefault)) problems.push(`${name}_PREVIOUS: must differ from ${name} (it is the other secret accepted during a rotation)`);
    else if (production && (previous === DEV_JWT_SECRET || previous === DEV_SERVICE_SECRET)) {
      problems.push(`${name}_PREVIOUS: must not be a built-in development value when NODE_ENV=production`);
    }
  }
  return problems;
}

/** JWT_JWKS_URL needs the issuer and audience to hold tokens to; its companions mean nothing without it. */
function externalJwtProblems(env: NodeJS.ProcessEnv, production: boolean): string[] {
  const problems: string[] = [];
  const companions = ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_ROLE_CLAIM', 'JWT_SUBJECT_CLAIM'];
  if (env.JWT_JWKS_URL === undefined) {
    for (const name of companions) if (env[name] !== undefined) problems.push(`${name}: has no effect without JWT_JWKS_URL`);
    return problems;
  }
  // Without both, any token the provider issues for any application would do.
  if (env.JWT_ISSUER === undefined) problems.push("JWT_ISSUER: must be set with JWT_JWKS_URL (the identity provider's iss)");
  if (env.JWT_AUDIENCE === undefined) problems.push('JWT_AUDIENCE: must be set with JWT_JWKS_URL (the aud its tokens carry for FitSync)');
  if (production && hasProtocol(env.JWT_JWKS_URL, ['http:'])) problems.push('JWT_JWKS_URL: must be an https:// URL when NODE_ENV=production');
  return problems;
}

/** `<NAME>_SUBSCRIPTIONS` variables that are set, by name; a value other than ws or sse is a problem. */
function subscriptionVariables(env: NodeJS.ProcessEnv, problems: string[]): Record<string, SubscriptionTransport> {
  const out: Record<string, SubscriptionTransport> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!/^[A-Z0-9_]+_SUBSCRIPTIONS$/.test(name) || raw === undefined) continue;
    if ((SUBSCRIPTION_TRANSPORTS as readonly string[]).includes(raw)) out[name] = raw as SubscriptionTransport;
    else problems.push(`${name}: must be ws or sse, got ${JSON.stringify(raw)}`);
  }
  return out;
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

const toolSchema = baseSchema.pick({ REDIS_URL: true, SUPERGRAPH_REDIS_KEY: true, EVENTS_PREFIX: true, SERVICE_SECRET: true }).extend({
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
  /** SERVICE_SECRET: schema:publish signs the service credential it asks a running subgraph for its SDL with. */
  serviceSecret: string;
  /** The `<NAME>_URL` variables set, by variable name: where schema:publish asks a subgraph, instead of its routing URL. */
  subgraphUrlOverrides: Record<string, string>;
  /** The `<NAME>_SUBSCRIPTIONS` variables set, by variable name: how schema:publish tries a subgraph's own subscriptions (as the gateway subscribes). */
  subgraphSubscriptions: Readonly<Record<string, SubscriptionTransport>>;
}

/**
 * The scripts' configuration, by the same rules as the services' where they share a
 * variable (REDIS_URL, SUPERGRAPH_REDIS_KEY, EVENTS_PREFIX, SERVICE_SECRET, `<NAME>_URL`, `<NAME>_SUBSCRIPTIONS`). Only these variables are read and checked,
 * so a script runs where a service's secrets are not set.
 */
export function loadToolConfig(env: NodeJS.ProcessEnv = process.env): ToolConfig {
  const parsed = toolSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) throw invalid('invalid configuration', parsed.error);
  const problems: string[] = [];
  const subgraphSubscriptions = subscriptionVariables(withoutEmpty(env), problems);
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const e = parsed.data;
  return {
    ci: e.CI !== undefined && e.CI !== 'false' && e.CI !== '0',
    schemaAuthor: e.SCHEMA_AUTHOR ?? e.GITHUB_ACTOR,
    redisUrl: e.REDIS_URL,
    supergraphRedisKey: e.SUPERGRAPH_REDIS_KEY,
    eventsPrefix: e.EVENTS_PREFIX,
    serviceSecret: e.SERVICE_SECRET,
    subgraphUrlOverrides: urlOverrides(withoutEmpty(env)),
    subgraphSubscriptions,
  };
}
