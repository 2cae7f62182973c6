import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../config.js';
import { parseRate } from '../rate-limits.js';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig('gateway', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('rate limit variables', () => {
  it('default to limits a person never meets, with TRUST_PROXY 0 (the socket address)', () => {
    expect(loadConfig('gateway', {}).rateLimits).toEqual({
      trustProxy: 0,
      loginPerAccount: { points: 5, seconds: 900 },
      loginPerAddress: { points: 20, seconds: 3600 },
      loginBlockSeconds: 900,
      loginBlockMaxSeconds: 86_400,
      registerPerAddress: { points: 10, seconds: 3600 },
      operations: { points: 1200, seconds: 60 },
      liveConnections: 20,
    });
  });

  it('read counts per duration, off, and hop counts', () => {
    const config = loadConfig('gateway', {
      TRUST_PROXY: '2',
      RATE_LIMIT_LOGIN_ACCOUNT: '3/10m',
      RATE_LIMIT_LOGIN_ADDRESS: 'off',
      RATE_LIMIT_LOGIN_BLOCK: '30s',
      RATE_LIMIT_LOGIN_BLOCK_MAX: '2h',
      RATE_LIMIT_REGISTER: '1 / 1d',
      RATE_LIMIT_OPERATIONS: 'off',
      RATE_LIMIT_LIVE_CONNECTIONS: 'off',
    });
    expect(config.rateLimits).toEqual({
      trustProxy: 2,
      loginPerAccount: { points: 3, seconds: 600 },
      loginPerAddress: null,
      loginBlockSeconds: 30,
      loginBlockMaxSeconds: 7200,
      registerPerAddress: { points: 1, seconds: 86_400 },
      operations: null,
      liveConnections: null,
    });
  });

  it('report every bad one at once, each naming its variable', () => {
    const message = refusal({
      TRUST_PROXY: '-1',
      RATE_LIMIT_LOGIN_ACCOUNT: '5 per 15m',
      RATE_LIMIT_LOGIN_ADDRESS: '0/1h',
      RATE_LIMIT_LOGIN_BLOCK: 'forever',
      RATE_LIMIT_LOGIN_BLOCK_MAX: '0s',
      RATE_LIMIT_REGISTER: '10/',
      RATE_LIMIT_OPERATIONS: '100/0s',
      RATE_LIMIT_LIVE_CONNECTIONS: '0',
    });
    for (const variable of [
      'TRUST_PROXY',
      'RATE_LIMIT_LOGIN_ACCOUNT',
      'RATE_LIMIT_LOGIN_ADDRESS',
      'RATE_LIMIT_LOGIN_BLOCK',
      'RATE_LIMIT_LOGIN_BLOCK_MAX',
      'RATE_LIMIT_REGISTER',
      'RATE_LIMIT_OPERATIONS',
      'RATE_LIMIT_LIVE_CONNECTIONS',
    ]) {
      expect(message).toMatch(new RegExp(`^  ${variable}: `, 'm'));
      expect(CONFIG_VARIABLES).toContain(variable);
    }
    expect(message).toMatch(/RATE_LIMIT_LOGIN_ACCOUNT: a count per duration such as 5\/15m or 1200\/1m, or off \(got "5 per 15m"\)/);
  });

  it('parse a rate only with a positive count and duration', () => {
    expect(parseRate('5/15m')).toEqual({ points: 5, seconds: 900 });
    expect(parseRate('1200/60')).toEqual({ points: 1200, seconds: 60 });
    for (const bad of ['5', '/15m', '5/15x', '0/1m', '5/0m', '-1/1m', '5/1.5m']) expect(parseRate(bad)).toBeUndefined();
  });
});
