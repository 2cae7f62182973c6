import { signUnsubscribeToken, signUserToken, verifyUnsubscribeToken, UnsubscribeTokenError } from '@fitsync/service-kit';
import { pinnedClock } from '@fitsync/service-kit/clock';
import { describe, expect, it } from 'vitest';
import { backoffMs } from '../mail/sender.js';
import { escapeHtml, renderMail } from '../mail/templates.js';
import { isPermanentRefusal } from '../mail/transport.js';
import { KIND_OF, parsePreferenceUpdate, quietUntil } from '../preferences.js';

const USER = '11111111-1111-4111-8111-111111111111';
const SECRET = 'unit-test-jwt-secret-0123456789';

describe('email templates', () => {
  const n = {
    type: 'BOOKING_CANCELLED' as const,
    title: 'Session cancelled',
    message: 'Reason: <img src=x onerror=alert(1)> & "more"',
    created_at: '2027-01-31T12:00:00Z',
  };
  const facts = {
    recipientName: 'Zoe <b>Z</b>',
    booking: {
      date: '2027-02-01',
      startTime: '14:00:00',
      endTime: '15:00:00',
      type: 'ONE_ON_ONE',
      status: 'CANCELLED',
      trainerName: "O'Brien & Co",
      clientName: null,
    },
  };
  const mail = renderMail(n, 'BOOKINGS', facts, { unsubscribe: 'http://localhost:4000/unsubscribe?token=a.b.c' });

  it('says the same in text and HTML, and escapes every value in the HTML', () => {
    expect(mail.subject).toBe('Session cancelled');
    expect(mail.text).toContain('When: Monday 1 February, 14:00–15:00');
    expect(mail.text).toContain("Trainer: O'Brien & Co");
    expect(mail.text).toContain(n.message);
    expect(mail.text).toContain('Stop booking emails: http://localhost:4000/unsubscribe?token=a.b.c');
    expect(mail.html).not.toMatch(/<img|<b>/);
    expect(mail.html).toContain('Reason: &lt;img src=x onerror=alert(1)&gt; &amp; &quot;more&quot;');
    expect(mail.html).toContain('Hello Zoe &lt;b&gt;Z&lt;/b&gt;,');
    expect(mail.html).toContain('<td>O&#39;Brien &amp; Co</td>');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('program emails carry the name, the length and the start date', () => {
    const p = renderMail(
      { type: 'PROGRAM_ASSIGNED', title: 'New program assigned', message: 'Your trainer assigned you a program.', created_at: '2027-01-31T12:00:00Z' },
      'PROGRAMS',
      { recipientName: 'Zoe', program: { name: 'Strength <8>', durationWeeks: 8, startDate: '2027-02-01', endDate: '2027-03-28', trainerName: 'Tom' } },
      { unsubscribe: 'http://x/unsubscribe?token=t' },
    );
    expect(p.text).toContain('Program: Strength <8>\nLength: 8 weeks\nStarts: Monday 1 February');
    expect(p.html).toContain('<td>Strength &lt;8&gt;</td>');
  });
});

describe('preferences', () => {
  it('every notification type belongs to a kind', () => {
    expect(new Set(Object.values(KIND_OF))).toEqual(new Set(['BOOKINGS', 'REMINDERS', 'PROGRAMS', 'PROGRESS', 'ACCOUNT']));
  });

  it('refuses a kind listed twice and times that are not HH:MM', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as { extensions?: { code?: string } }).extensions?.code;
      }
      return 'accepted';
    };
    expect(
      code(() =>
        parsePreferenceUpdate({
          kinds: [
            { kind: 'BOOKINGS', channels: [] },
            { kind: 'BOOKINGS', channels: ['EMAIL'] },
          ],
        }),
      ),
    ).toBe('BAD_USER_INPUT');
    for (const start of ['7:00', '24:00', '12:60', '12:00:00', ''])
      expect(
        code(() => parsePreferenceUpdate({ quietHours: { start, end: '07:00' } })),
        start,
      ).toBe('BAD_USER_INPUT');
    expect(parsePreferenceUpdate({ kinds: [{ kind: 'PROGRESS', channels: ['EMAIL'] }], quietHours: { start: '22:00', end: '07:00' } })).toEqual({
      email: { PROGRESS: true },
      quietHours: { start: '22:00', end: '07:00' },
    });
  });

  it('quiet hours hold until their end, past midnight too (gym time)', () => {
    const at = (s: string) => new Date(s);
    expect(quietUntil({ start: '22:00', end: '07:00' }, at('2027-01-31T23:30:00'))).toEqual(at('2027-02-01T07:00:00'));
    expect(quietUntil({ start: '22:00', end: '07:00' }, at('2027-02-01T06:59:59'))).toEqual(at('2027-02-01T07:00:00'));
    expect(quietUntil({ start: '22:00', end: '07:00' }, at('2027-02-01T07:00:00'))).toBeNull();
    expect(quietUntil({ start: '12:00', end: '13:00' }, at('2027-01-31T12:00:00'))).toEqual(at('2027-01-31T13:00:00'));
    expect(quietUntil({ start: '12:00', end: '13:00' }, at('2027-01-31T11:59:59'))).toBeNull();
    expect(quietUntil(null, at('2027-01-31T12:00:00'))).toBeNull();
  });
});

describe('sending', () => {
  it('backs off exponentially up to an hour, and never gives up on its own', () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(backoffMs(50)).toBe(3_600_000);
  });

  it('only a 5xx answer is a permanent refusal', () => {
    expect(isPermanentRefusal(Object.assign(new Error('x'), { responseCode: 550 }))).toBe(true);
    expect(isPermanentRefusal(Object.assign(new Error('x'), { responseCode: 451 }))).toBe(false);
    expect(isPermanentRefusal(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(false);
  });
});

describe('unsubscribe tokens', () => {
  const clock = pinnedClock('2027-01-31T12:00:00');
  const claim = { userId: USER, kind: 'BOOKINGS', channel: 'EMAIL' };

  it('verify with the secret that signed them, or the previous one during a rotation', async () => {
    const token = await signUnsubscribeToken(claim, SECRET, '60d', clock);
    expect(await verifyUnsubscribeToken(token, SECRET, clock)).toEqual(claim);
    expect(await verifyUnsubscribeToken(token, { current: 'the-new-secret-0123456789abcdef', previous: SECRET }, clock)).toEqual(claim);
    await expect(verifyUnsubscribeToken(token, 'the-new-secret-0123456789abcdef', clock)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('expire, and are never sign-in tokens (nor the other way round)', async () => {
    const token = await signUnsubscribeToken(claim, SECRET, '1d', clock);
    const later = pinnedClock(new Date(clock().getTime() + 86_400_000));
    await expect(verifyUnsubscribeToken(token, SECRET, later)).rejects.toMatchObject({ reason: 'expired' });
    const signIn = await signUserToken({ id: USER, role: 'CLIENT' }, SECRET, '1h', clock);
    await expect(verifyUnsubscribeToken(signIn, SECRET, clock)).rejects.toBeInstanceOf(UnsubscribeTokenError);
  });
});
