import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateScalar, DateTimeScalar } from '../scalars.js';

describe('Date and DateTime inputs', () => {
  it('accept 1900 to 2100, from variables and literals alike', () => {
    expect(DateScalar.parseValue('2027-01-31')).toBe('2027-01-31');
    expect(DateScalar.parseLiteral({ kind: Kind.STRING, value: '1900-01-01' })).toBe('1900-01-01');
    expect(DateTimeScalar.parseValue('2100-12-31T23:00:00Z')).toEqual(new Date('2100-12-31T23:00:00Z'));
  });

  it('refuse what cannot be read back or makes no sense, with BAD_USER_INPUT', () => {
    for (const value of ['9999-12-01', '1899-12-31', '2101-01-01']) {
      expect(() => DateScalar.parseValue(value)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
      expect(() => DateScalar.parseLiteral({ kind: Kind.STRING, value })).toThrow(/between 1900-01-01 and 2100-12-31/);
    }
    // Stored as 2001-01-01 before: year 1 is not a year anyone records a weight in.
    expect(() => DateTimeScalar.parseValue('0001-01-01T00:00:00Z')).toThrow(/between 1900-01-01 and 2100-12-31/);
    expect(() => DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: '9999-12-31T00:00:00Z' })).toThrow(/between/);
  });
});
