import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger, createMetrics } from '@fitsync/service-kit';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { authFields, loginOutcome } from '../auth-limits.js';
import { accountKey, addressKey, createRateLimits, isRefusal } from '../rate-limits.js';

function fieldsOf(source: string, variables: Record<string, unknown> = {}) {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return authFields(operation, document, variables);
}

describe('authFields: the login and register fields a mutation will run', () => {
  it('finds them through aliases, inline fragments and fragment spreads, once per response key', () => {
    const fields = fieldsOf(
      `mutation($e: String!) {
        a: login(email: "A@x.test", password: "p") { token }
        ... on Mutation { b: login(email: $e, password: "p") { token } }
        ...F
        a: login(email: "A@x.test", password: "p") { token }
        register(input: { email: "n@x.test", password: "long-enough", name: "N" }) { token }
        updateProfile(input: {}) { id }
      }
      fragment F on Mutation { c: login(email: 42, password: "p") { token } }`,
      { e: 'b@x.test' },
    );
    expect(fields).toEqual([
      { name: 'login', responseKey: 'a', email: 'A@x.test' },
      { name: 'login', responseKey: 'b', email: 'b@x.test' },
      { name: 'login', responseKey: 'c', email: undefined },
      { name: 'register', responseKey: 'register' },
    ]);
  });

  it('leaves out what @skip and @include leave out, and counts a directive it cannot evaluate', () => {
    const source = `mutation($yes: Boolean!) {
      a: login(email: "a", password: "p") @skip(if: $yes) { token }
      b: login(email: "b", password: "p") @include(if: $yes) { token }
      ...F @skip(if: true)
      d: login(email: "d", password: "p") @skip(if: $missing) { token }
    }
    fragment F on Mutation { c: login(email: "c", password: "p") { token } }`;
    expect(fieldsOf(source, { yes: true }).map((f) => f.responseKey)).toEqual(['b', 'd']);
    expect(fieldsOf(source, { yes: false }).map((f) => f.responseKey)).toEqual(['a', 'd']);
  });

  it('finds nothing in queries and subscriptions', () => {
    expect(fieldsOf('{ login: me { id } }')).toEqual([]);
  });
});

describe('loginOutcome: what each login field answered', () => {
  const field = { name: 'login' as const, responseKey: 'a', email: 'a@x.test' };
  it('success with its payload, failure with its own error, unchecked when it did not run or its input was refused', () => {
    expect(loginOutcome(field, { data: { a: { token: 't' } } })).toBe('success');
    expect(loginOutcome(field, { data: null, errors: [{ message: 'no', path: ['a'], extensions: { code: 'UNAUTHENTICATED' } }] })).toBe('failure');
    expect(loginOutcome(field, { data: null, errors: [{ message: 'down', path: ['a'], extensions: { code: 'SERVICE_UNAVAILABLE' } }] })).toBe('failure');
    expect(loginOutcome(field, { data: null, errors: [{ message: 'bad', path: ['a'], extensions: { code: 'BAD_USER_INPUT' } }] })).toBe('unchecked');
    expect(loginOutcome(field, { data: null, errors: [{ message: 'no', path: ['b'], extensions: { code: 'UNAUTHENTICATED' } }] })).toBe('unchecked');
    expect(loginOutcome(field, undefined)).toBe('failure');
  });
});

describe('createRateLimits in memory', () => {
  const limits = (over: Partial<Parameters<typeof createRateLimits>[0]> = {}) =>
    createRateLimits(
      {
        trustProxy: 0,
        loginPerAccount: { points: 3, seconds: 900 },
        loginPerAddress: { points: 10, seconds: 3600 },
        loginBlockSeconds: 60,
        loginBlockMaxSeconds: 3600,
        registerPerAddress: { points: 2, seconds: 3600 },
        operations: null,
        liveConnections: 2,
        ...over,
      },
      { prefix: 'unit', metrics: createMetrics('gateway'), log: createLogger('gateway', 'silent') },
    );
  const reserve = async (l: ReturnType<typeof limits>, emails: string[], registrations = 0) => {
    const r = await l.reserveAuth('203.0.113.7', emails, registrations);
    if (isRefusal(r)) throw new Error(`refused: ${r.message}`);
    return r;
  };

  it('spends nothing for a refused reservation: the address keeps its points', async () => {
    const l = limits();
    const refused = await l.reserveAuth('203.0.113.7', ['a@x.test', 'a@x.test', 'A@X.test ', 'a@x.test'], 0);
    expect(refused).toMatchObject({ limit: 'login_account', retryAfter: 60 });
    // All ten address points are still there: ten logins to ten other accounts are allowed.
    await reserve(
      l,
      Array.from({ length: 10 }, (_, i) => `other-${i}@x.test`),
    );
    expect(await l.reserveAuth('203.0.113.7', ['one-more@x.test'], 0)).toMatchObject({ limit: 'login_address' });
  });

  it('settles: unchecked logins and register fields that did not run give their points back, a success resets its account', async () => {
    const l = limits();
    await (await reserve(l, ['a@x.test', 'a@x.test', 'a@x.test'], 2)).settle(['unchecked', 'unchecked', 'failure'], 0);
    // One failure and no registration spent: two logins and two registrations more are allowed, then the third login is refused.
    await (await reserve(l, ['a@x.test', 'a@x.test'], 2)).settle(['failure', 'failure'], 2);
    expect(await l.reserveAuth('203.0.113.7', ['a@x.test'], 0)).toMatchObject({ limit: 'login_account' });
    expect(await l.reserveAuth('203.0.113.7', [], 1)).toMatchObject({ limit: 'register_address' });

    await (await reserve(l, ['b@x.test', 'b@x.test'])).settle(['failure', 'failure'], 0);
    await (await reserve(l, ['b@x.test'])).settle(['success'], 0);
    // Reset: three more failures are allowed before the block.
    await (await reserve(l, ['b@x.test', 'b@x.test', 'b@x.test'])).settle(['failure', 'failure', 'failure'], 0);
    expect(await l.reserveAuth('203.0.113.7', ['b@x.test'], 0)).toMatchObject({ limit: 'login_account' });
  });

  it('keeps limiting, in memory, while Redis does not answer', async () => {
    // A "Redis" that hangs up on every connection.
    const dead = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const l = createRateLimits(
      {
        trustProxy: 0,
        loginPerAccount: { points: 2, seconds: 900 },
        loginPerAddress: null,
        loginBlockSeconds: 60,
        loginBlockMaxSeconds: 3600,
        registerPerAddress: null,
        operations: { points: 1, seconds: 60 },
        liveConnections: null,
      },
      {
        redisUrl: `redis://127.0.0.1:${(dead.address() as AddressInfo).port}`,
        prefix: 'unit',
        metrics: createMetrics('gateway'),
        log: createLogger('gateway', 'silent'),
      },
    );
    try {
      expect(await l.operation('user:u1')).toBeUndefined();
      expect(await l.operation('user:u1')).toMatchObject({ limit: 'operations' });
      await (await reserve(l, ['a@x.test', 'a@x.test'])).settle(['failure', 'failure'], 0);
      expect(await l.reserveAuth('203.0.113.7', ['a@x.test'], 0)).toMatchObject({ limit: 'login_account', retryAfter: 60 });
    } finally {
      await l.close();
      await new Promise((resolve) => dead.close(resolve));
    }
  });

  it('caps live connections per user and frees a slot once, however often it is released', () => {
    const l = limits();
    const one = l.liveConnection('u1');
    const two = l.liveConnection('u1');
    expect(isRefusal(one) || isRefusal(two)).toBe(false);
    expect(l.liveConnection('u1')).toMatchObject({ limit: 'live_connections' });
    expect(isRefusal(l.liveConnection('u2'))).toBe(false);
    if (isRefusal(one)) throw new Error('unreachable');
    one.release();
    one.release();
    expect(isRefusal(l.liveConnection('u1'))).toBe(false);
    expect(l.liveConnection('u1')).toMatchObject({ limit: 'live_connections' });
  });

  it('keys accounts as the users subgraph matches emails, hashed, IPv4-mapped addresses as IPv4, IPv6 ones by their /64', () => {
    expect(accountKey(' Client@FitSync.test ')).toBe(accountKey('client@fitsync.test'));
    expect(accountKey('client@fitsync.test')).not.toContain('fitsync');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    // One IPv6 subscriber has a /64 to pick addresses from.
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    // Asked again (keys are kept per address), the same answers; no address is no key of its own.
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('2001:db8:1:2:ffff::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey(undefined)).toBe('unknown');
    expect(addressKey('')).toBe('unknown');
    expect(addressKey('not an address')).toBe('not an address');
  });
});
