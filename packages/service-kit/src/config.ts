import { z } from 'zod';

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
/** `USERS_URL`, ...: where the gateway and other services reach a subgraph (overrides supergraph routing URLs). */
export const urlVariable = (service: SubgraphName) => `${service.toUpperCase()}_URL`;

const port = z.coerce.number().int().min(0).max(65535);

const baseSchema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.string().url().optional(),
  DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case SQL identifier').optional(),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  REDIS_URL: z.string().url().optional(),
  EVENTS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('fitsync'),
  JWT_SECRET: z.string().min(16).default(DEV_JWT_SECRET),
  JWT_TTL: z.string().default('12h'),
  SERVICE_SECRET: z.string().min(16).default(DEV_SERVICE_SECRET),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z.enum(['auto', 'never']).default('auto'),
  SUPERGRAPH_PATH: z.string().default('supergraph.graphql'),
  REMINDER_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  // Empty means unset, so that docker-compose can pass `${SUPERGRAPH_REDIS_KEY:-}` through.
  SUPERGRAPH_REDIS_KEY: z.string().optional(),
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
  /** Schedule: how often it looks for bookings due their 24-hour reminder; 0 turns the scheduler off. */
  reminderIntervalMs: number;
}

export class ConfigError extends Error {}

/**
 * Reads the environment once, at start-up, and fails with every problem listed
 * rather than at the first request that needs a value.
 */
export function loadConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = baseSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration for ${service}:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && e.JWT_SECRET === DEV_JWT_SECRET) {
    throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production (the built-in value is for development only)');
  }
  if (production && e.SERVICE_SECRET === DEV_SERVICE_SECRET) {
    throw new ConfigError('SERVICE_SECRET must be set when NODE_ENV=production (the built-in value is for development only)');
  }
  const portOf = (name: ServiceName) => {
    const raw = env[portVariable(name)];
    const p = port.safeParse(raw ?? DEFAULT_PORTS[name]);
    if (!p.success) throw new ConfigError(`${portVariable(name)} must be a port number, got ${JSON.stringify(raw)}`);
    return p.data;
  };
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, env[urlVariable(name)] ?? `http://127.0.0.1:${portOf(name)}/graphql`]),
  ) as Record<SubgraphName, string>;
  return {
    service,
    nodeEnv: e.NODE_ENV,
    production,
    host: e.HOST,
    port: portOf(service),
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
    supergraphRedisKey: e.SUPERGRAPH_REDIS_KEY || undefined,
    subgraphUrls,
    reminderIntervalMs: e.REMINDER_INTERVAL_MS,
  };
}
