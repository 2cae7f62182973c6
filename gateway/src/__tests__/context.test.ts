import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createContext } from '../context.js';
import type { UserAuthenticator } from '../identity.js';

/** A pino logger writing JSON lines into `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const users: UserAuthenticator = {
  authenticate: async (token) => {
    if (token !== 'good') throw new Error('not this test');
    return { viewer: { id: 'user-7', role: 'CLIENT' } as never, exp: 0, authorization: 'Bearer good' };
  },
};

describe('createContext', () => {
  it('gives the operation a logger bound to its correlation id and user, made once, when something logs', async () => {
    const { log, lines } = capturingLogger();
    let children = 0;
    const counting = new Proxy(log, {
      get(target, prop, receiver) {
        if (prop === 'child') return (...args: Parameters<typeof log.child>) => (children++, target.child(...args));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const context = await createContext(users, counting)({ req: { headers: { authorization: 'Bearer good', 'x-correlation-id': 'corr-1' }, ip: '10.0.0.1' } });
    expect(context.viewer?.id).toBe('user-7');
    expect(children).toBe(0);
    context.log.warn('first');
    context.log.warn('second');
    expect(children).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.msg, l.correlationId, l.userId])).toEqual([
      ['first', 'corr-1', 'user-7'],
      ['second', 'corr-1', 'user-7'],
    ]);
  });

  it('binds no user for an anonymous operation', async () => {
    const { log, lines } = capturingLogger();
    const context = await createContext(users, log)({ req: { headers: { 'x-correlation-id': 'corr-2' }, ip: '10.0.0.2' } });
    expect(context.viewer).toBeNull();
    context.log.info('anonymous');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'anonymous', correlationId: 'corr-2' });
    expect(lines[0]).not.toHaveProperty('userId');
  });
});
