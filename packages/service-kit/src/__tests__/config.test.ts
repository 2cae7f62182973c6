import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';

/** The message of the ConfigError loadConfig throws for this environment. */
function refusal(env: Record<string, string>, service: Parameters<typeof loadConfig>[0] = 'gateway'): string {
  try {
    loadConfig(service, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig validates every variable at start-up', () => {
  it('starts with the defaults', () => {
    const config = loadConfig('users', {});
    expect(config).toMatchObject({ port: 3001, jwtTtl: '12h', corsOrigins: [], operationLimits: { maxDepth: 15, maxAliases: 30 }, maxErrors: 100 });
  });

  it('enforces the trusted documents in production and allows others elsewhere, unless TRUSTED_DOCUMENTS says otherwise', () => {
    const secrets = { JWT_SECRET: 'a-production-jwt-secret', SERVICE_SECRET: 'a-production-service-secret' };
    expect(loadConfig('gateway', {}).trustedDocuments).toEqual({ mode: 'allow', dir: 'operations' });
    expect(loadConfig('gateway', { NODE_ENV: 'production', ...secrets }).trustedDocuments.mode).toBe('enforce');
    expect(loadConfig('gateway', { NODE_ENV: 'production', ...secrets, TRUSTED_DOCUMENTS: 'allow' }).trustedDocuments.mode).toBe('allow');
    expect(loadConfig('gateway', { TRUSTED_DOCUMENTS: 'off', TRUSTED_DOCUMENTS_DIR: '/srv/ops' }).trustedDocuments).toEqual({ mode: 'off', dir: '/srv/ops' });
    expect(refusal({ TRUSTED_DOCUMENTS: 'on' })).toMatch(/^ {2}TRUSTED_DOCUMENTS: off, allow or enforce \(got "on"\)$/m);
  });

  it('refuses a JWT_TTL that is not a duration', () => {
    expect(refusal({ JWT_TTL: 'banana' })).toMatch(/JWT_TTL: a duration such as 90s, 30m, 12h or 7d \(got "banana"\)/);
    expect(refusal({ JWT_TTL: '0s' })).toMatch(/JWT_TTL/);
    expect(loadConfig('gateway', { JWT_TTL: '30m' }).jwtTtl).toBe('30m');
  });

  it('reports both missing secrets in production in one error', () => {
    const message = refusal({ NODE_ENV: 'production' });
    expect(message).toMatch(/JWT_SECRET: must be set when NODE_ENV=production/);
    expect(message).toMatch(/SERVICE_SECRET: must be set when NODE_ENV=production/);
  });

  it('reports every problem at once, each naming its variable, and never echoes a secret', () => {
    const message = refusal({
      NODE_ENV: 'production',
      JWT_SECRET: 'short-secret',
      GATEWAY_PORT: '70000',
      USERS_PORT: 'http',
      HOST: 'not a host!',
      DATABASE_URL: 'mysql://u:hunter2@db/x',
      REDIS_URL: 'nope',
      TRAINING_URL: 'ftp://training/graphql',
      CORS_ORIGINS: 'https://app.example.com,https://x.example.com/path',
      MAX_DEPTH: '0',
      METRICS_TOKEN: 'tiny',
      JWT_TTL: 'banana',
      TRUSTED_DOCUMENTS: 'strict',
    });
    for (const variable of [
      'JWT_SECRET',
      'SERVICE_SECRET',
      'GATEWAY_PORT',
      'USERS_PORT',
      'HOST',
      'DATABASE_URL',
      'REDIS_URL',
      'TRAINING_URL',
      'CORS_ORIGINS',
      'MAX_DEPTH',
      'METRICS_TOKEN',
      'JWT_TTL',
      'TRUSTED_DOCUMENTS',
    ]) {
      expect(message).toMatch(new RegExp(`^  ${variable}: `, 'm'));
    }
    expect(message).not.toMatch(/short-secret|hunter2|tiny/);
  });

  it("leaves other software's <NAME>_URL variables alone (Vite sets BASE_URL=/), and takes a URL for another subgraph", () => {
    const config = loadConfig('gateway', { BASE_URL: '/', INVENTORY_URL: 'http://inventory:4010/graphql' });
    expect(config.subgraphUrlOverrides).toEqual({ INVENTORY_URL: 'http://inventory:4010/graphql' });
  });

  it('accepts hosts, origins and URLs in their usual forms', () => {
    const config = loadConfig('gateway', {
      HOST: '::',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      USERS_URL: 'http://users:3001/graphql',
      DATABASE_URL: 'postgresql://postgres@db:5432/fitsync',
      REDIS_URL: 'rediss://cache:6380',
    });
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig('gateway', { HOST: 'gateway.internal' }).host).toBe('gateway.internal');
    expect(loadConfig('gateway', { HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
  });
});
