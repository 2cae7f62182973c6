import { describe, expect, it } from 'vitest';
import { connectionLost } from '../db.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('connectionLost', () => {
  it('tells a connection or server that went away', () => {
    expect(connectionLost(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(connectionLost(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(connectionLost(withCode('connection failure', '08006'))).toBe(true);
    expect(connectionLost(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(connectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(connectionLost(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
  });

  it('leaves a statement that failed on its own alone', () => {
    expect(connectionLost(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(connectionLost(withCode('canceling statement due to statement timeout', '57014'))).toBe(false);
    expect(connectionLost(withCode('syntax error at or near "SELEC"', '42601'))).toBe(false);
    expect(connectionLost('Connection terminated')).toBe(false);
    expect(connectionLost(undefined)).toBe(false);
  });
});
