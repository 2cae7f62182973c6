import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MAX_OPERATION_COST, loadConfig, subscriptionTransport } from '../config.js';

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

  it('reads the mail settings: files by default, SMTP_URL as an smtp(s) URL never echoed, links at the gateway', () => {
    expect(loadConfig('notifications', {}).mail).toEqual({
      smtpUrl: undefined,
      from: 'FitSync <no-reply@fitsync.test>',
      intervalMs: 5_000,
      publicUrl: 'http://localhost:4000',
      unsubscribeTtl: '60d',
    });
    expect(loadConfig('notifications', { GATEWAY_PORT: '8080', SMTP_URL: 'smtps://u:p@mail.example.com:465' }).mail).toMatchObject({
      smtpUrl: 'smtps://u:p@mail.example.com:465',
      publicUrl: 'http://localhost:8080',
    });
    expect(loadConfig('notifications', { PUBLIC_URL: 'https://fitsync.example.com/' }).mail.publicUrl).toBe('https://fitsync.example.com');
    const message = refusal(
      { SMTP_URL: 'http://user:secret@mail.example.com', UNSUBSCRIBE_TTL: 'forever', PUBLIC_URL: 'fitsync.example.com' },
      'notifications',
    );
    expect(message).toMatch(/^ {2}SMTP_URL: an smtp:\/\/ or smtps:\/\/ URL$/m);
    expect(message).toMatch(/UNSUBSCRIBE_TTL: a duration/);
    expect(message).toMatch(/PUBLIC_URL: an http:\/\/ or https:\/\/ URL/);
    expect(message).not.toContain('secret');
  });

  it('refuses a JWT_TTL that is not a duration', () => {
    expect(refusal({ JWT_TTL: 'banana' })).toMatch(/JWT_TTL: a duration such as 90s, 30m, 12h or 7d \(got "banana"\)/);
    expect(refusal({ JWT_TTL: '0s' })).toMatch(/JWT_TTL/);
    expect(loadConfig('gateway', { JWT_TTL: '30m' }).jwtTtl).toBe('30m');
  });

  it('takes MAX_OPERATION_COST as a whole number of at least 1, default the dashboards-sized budget', () => {
    expect(loadConfig('gateway', {}).maxOperationCost).toBe(DEFAULT_MAX_OPERATION_COST);
    expect(loadConfig('gateway', { MAX_OPERATION_COST: '5000' }).maxOperationCost).toBe(5000);
    for (const bad of ['0', '-1', '1.5', 'lots'])
      expect(refusal({ MAX_OPERATION_COST: bad })).toMatch(new RegExp(`^  MAX_OPERATION_COST: .*\\(got "${bad}"\\)`, 'm'));
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

  it("reaches a subgraph's own subscriptions over graphql-ws unless <NAME>_SUBSCRIPTIONS says sse, for any subgraph name", () => {
    const config = loadConfig('gateway', { MY_ANNOUNCEMENTS_SUBSCRIPTIONS: 'sse', USERS_SUBSCRIPTIONS: 'ws' });
    expect(subscriptionTransport(config, 'my-announcements')).toBe('sse');
    expect(subscriptionTransport(config, 'users')).toBe('ws');
    expect(subscriptionTransport(config, 'inventory')).toBe('ws');
    expect(refusal({ INVENTORY_SUBSCRIPTIONS: 'websocket' })).toContain('  INVENTORY_SUBSCRIPTIONS: must be ws or sse, got "websocket"');
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

describe('secrets that rotate', () => {
  const PROD = { NODE_ENV: 'production', JWT_SECRET: 'prod-jwt-secret-0123456789abcdef', SERVICE_SECRET: 'prod-service-secret-0123456789ab' };

  it('take a previous value beside the current one', () => {
    const config = loadConfig('gateway', {
      ...PROD,
      JWT_SECRET_PREVIOUS: 'prod-old-jwt-secret-0123456789ab',
      SERVICE_SECRET_PREVIOUS: 'prod-old-service-secret-012345',
    });
    expect(config).toMatchObject({
      jwtSecret: PROD.JWT_SECRET,
      jwtSecretPrevious: 'prod-old-jwt-secret-0123456789ab',
      serviceSecret: PROD.SERVICE_SECRET,
      serviceSecretPrevious: 'prod-old-service-secret-012345',
    });
    expect(loadConfig('gateway', PROD)).toMatchObject({ jwtSecretPrevious: undefined, serviceSecretPrevious: undefined });
  });

  it('refuse a previous value equal to the current one, too short, or built in (production), every problem at once and no secret echoed', () => {
    const message = refusal({ ...PROD, JWT_SECRET_PREVIOUS: PROD.JWT_SECRET, SERVICE_SECRET_PREVIOUS: 'short-old' });
    expect(message).toMatch(/^ {2}JWT_SECRET_PREVIOUS: must differ from JWT_SECRET/m);
    expect(message).toMatch(/^ {2}SERVICE_SECRET_PREVIOUS: /m);
    expect(message).not.toMatch(/prod-jwt-secret|short-old/);
    expect(refusal({ ...PROD, JWT_SECRET_PREVIOUS: 'fitsync-dev-only-jwt-secret-do-not-deploy' })).toMatch(
      /JWT_SECRET_PREVIOUS: must not be a built-in development value when NODE_ENV=production/,
    );
    // Outside production the current secret defaults to the built-in one: a previous equal to it rotates nothing.
    expect(refusal({ SERVICE_SECRET_PREVIOUS: 'fitsync-dev-only-service-secret-do-not-deploy' })).toMatch(
      /SERVICE_SECRET_PREVIOUS: must differ from SERVICE_SECRET/,
    );
  });
});

describe('tokens from an identity provider', () => {
  const IDP = {
    JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    JWT_ISSUER: 'https://idp.example.com/',
    JWT_AUDIENCE: 'fitsync-api, fitsync-mobile',
  };

  it('are off unless JWT_JWKS_URL is set, and read issuer, audiences and the claims to map', () => {
    expect(loadConfig('gateway', {}).externalJwt).toBeUndefined();
    expect(loadConfig('gateway', IDP).externalJwt).toEqual({
      jwksUrl: IDP.JWT_JWKS_URL,
      issuer: IDP.JWT_ISSUER,
      audience: ['fitsync-api', 'fitsync-mobile'],
      roleClaim: 'role',
      subjectClaim: 'sub',
    });
    const mapped = loadConfig('gateway', { ...IDP, JWT_ROLE_CLAIM: 'realm_access.roles', JWT_SUBJECT_CLAIM: 'https://fitsync.example/user_id' });
    expect(mapped.externalJwt).toMatchObject({ roleClaim: 'realm_access.roles', subjectClaim: 'https://fitsync.example/user_id' });
    // Not a subgraph URL override, although it ends in _URL.
    expect(mapped.subgraphUrlOverrides).toEqual({});
  });

  it('need an issuer and an audience, a URL (https in production), and companions only with JWT_JWKS_URL', () => {
    const missing = refusal({ JWT_JWKS_URL: 'not a url' });
    expect(missing).toMatch(/^ {2}JWT_JWKS_URL: an http:\/\/ or https:\/\/ URL/m);
    expect(missing).toMatch(/^ {2}JWT_ISSUER: must be set with JWT_JWKS_URL/m);
    expect(missing).toMatch(/^ {2}JWT_AUDIENCE: must be set with JWT_JWKS_URL/m);
    expect(
      refusal({
        NODE_ENV: 'production',
        JWT_SECRET: 'prod-jwt-secret-0123456789abcdef',
        SERVICE_SECRET: 'prod-service-secret-0123456789ab',
        ...IDP,
        JWT_JWKS_URL: 'http://idp/jwks',
      }),
    ).toMatch(/JWT_JWKS_URL: must be an https:\/\/ URL when NODE_ENV=production/);
    expect(loadConfig('gateway', { ...IDP, JWT_JWKS_URL: 'http://127.0.0.1:9999/jwks' }).externalJwt?.jwksUrl).toBe('http://127.0.0.1:9999/jwks');
    const orphans = refusal({ JWT_ISSUER: 'https://idp/', JWT_AUDIENCE: 'x', JWT_ROLE_CLAIM: 'roles', JWT_SUBJECT_CLAIM: 'uid' });
    for (const variable of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_ROLE_CLAIM', 'JWT_SUBJECT_CLAIM']) {
      expect(orphans).toMatch(new RegExp(`^  ${variable}: has no effect without JWT_JWKS_URL`, 'm'));
    }
    expect(refusal({ ...IDP, JWT_AUDIENCE: ' , ' })).toMatch(/JWT_AUDIENCE: one audience or several/);
  });

  it('serves GraphiQL at /graphql outside production and nowhere in production, unless GRAPHIQL_PATH says otherwise', () => {
    const secrets = { JWT_SECRET: 'a-production-jwt-secret', SERVICE_SECRET: 'a-production-service-secret' };
    expect(loadConfig('gateway', {}).graphiqlPath).toBe('/graphql');
    expect(loadConfig('gateway', { GRAPHIQL_PATH: 'off' }).graphiqlPath).toBeUndefined();
    expect(loadConfig('gateway', { NODE_ENV: 'production', ...secrets }).graphiqlPath).toBeUndefined();
    expect(loadConfig('gateway', { NODE_ENV: 'production', ...secrets, GRAPHIQL_PATH: '/tools/graphiql' }).graphiqlPath).toBe('/tools/graphiql');
    // docker-compose passes an unset variable as empty: the default.
    expect(loadConfig('gateway', { NODE_ENV: 'production', ...secrets, GRAPHIQL_PATH: '' }).graphiqlPath).toBeUndefined();
    for (const bad of ['graphiql', '/', '/a//b', '/ide?x=1', '/ide/']) {
      expect(refusal({ GRAPHIQL_PATH: bad })).toMatch(/^ {2}GRAPHIQL_PATH: off, or a path such as \/graphiql/m);
    }
    for (const taken of ['/health', '/ready', '/metrics', '/graphiql-assets', '/graphiql-assets/x', '/graphql/ide']) {
      expect(refusal({ GRAPHIQL_PATH: taken })).toMatch(/^ {2}GRAPHIQL_PATH: must not be one of the gateway's own paths/m);
    }
  });
});
