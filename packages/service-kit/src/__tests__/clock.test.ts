import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, durationSeconds, fullTime, gymInstant, gymTime, localDate, minutesBetween, pinnedClock, timeToSeconds } from '../clock.js';
import { createTokenVerifier, signUserToken } from '../auth.js';

describe('the one clock', () => {
  it('stands still until moved, and moves by what a test says', () => {
    const clock = pinnedClock('2027-01-31T23:59:30');
    expect(clock()).toEqual(clock());
    clock.advance(45_000);
    expect(gymTime(clock())).toEqual({ date: '2027-02-01', time: '00:00:15' });
    clock.set('2026-11-25T10:00:00');
    expect(gymTime(clock())).toEqual({ date: '2026-11-25', time: '10:00:00' });
    expect(() => pinnedClock('not a time')).toThrow(/not an instant/);
  });

  it("reads the gym's local calendar day and time (TZ decides)", () => {
    expect(localDate(new Date(2026, 10, 25, 23, 59))).toBe('2026-11-25');
    expect(localDate(new Date(2027, 0, 1, 0, 0))).toBe('2027-01-01');
    expect(gymTime(new Date(2026, 10, 23, 23, 59, 5))).toEqual({ date: '2026-11-23', time: '23:59:05' });
  });

  it('counts calendar days across month, year and leap-day boundaries', () => {
    expect(addDays('2027-01-31', 1)).toBe('2027-02-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
    expect(daysBetween('2026-12-31', '2027-03-01')).toBe(60);
    expect(timeToSeconds('07:30')).toBe(27_000);
    expect(timeToSeconds('23:59:30')).toBe(86_370);
  });

  it('turns a gym day and time back into an instant, and measures wall-clock times', () => {
    const at = new Date(2027, 0, 31, 23, 59, 30);
    expect(gymInstant(gymTime(at).date, gymTime(at).time)).toEqual(at);
    expect(gymInstant('2027-02-01', '07:30')).toEqual(new Date(2027, 1, 1, 7, 30));
    expect([fullTime('07:30'), fullTime('07:30:15'), fullTime('07:30:15.250')]).toEqual(['07:30:00', '07:30:15', '07:30:15']);
    expect(minutesBetween('07:00:00', '08:15')).toBe(75);
  });

  it('reads token lifetimes', () => {
    expect([durationSeconds('90s'), durationSeconds('30m'), durationSeconds('12h'), durationSeconds('7d'), durationSeconds('15')]).toEqual([
      90, 1800, 43_200, 604_800, 15,
    ]);
    expect(() => durationSeconds('banana')).toThrow(/not a duration/);
  });

  it('issues and checks user tokens on the clock it is given, whatever the wall clock says', async () => {
    const secret = 'clock-test-secret-0123456789';
    const clock = pinnedClock('2040-06-01T12:00:00Z');
    const verifier = createTokenVerifier(secret, 'clock-test-service-secret-0123', clock);
    const id = '7f4c2b6e-1d3a-4e5f-9a8b-0c1d2e3f4a5b';
    const token = await signUserToken({ id, role: 'CLIENT' }, secret, '1h', clock);
    await expect(verifier.verifyUser(token)).resolves.toMatchObject({ id, role: 'CLIENT', exp: Date.parse('2040-06-01T13:00:00Z') / 1000 });
    clock.advance(3_600_000);
    await expect(verifier.verifyUser(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: 'Token expired' });
  });
});

describe('user tokens', () => {
  it('refuse a correctly signed token whose subject is not a user id, before any query sees it', async () => {
    const secret = 'clock-test-secret-0123456789';
    const clock = pinnedClock('2040-06-01T12:00:00Z');
    const forged = await signUserToken({ id: "x' OR 1=1 --", role: 'ADMIN' }, secret, '1h', clock);
    await expect(createTokenVerifier(secret, 'clock-test-service-secret-0123', clock).verifyUser(forged)).rejects.toMatchObject({
      message: 'Malformed token',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });
});
