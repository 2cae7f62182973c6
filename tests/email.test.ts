// Email notifications end to end: a mutation through the gateway, its event, the notification
// and its deliveries, the sender, and a real SMTP server (smtp-server) started here; the
// unsubscribe link of an email followed from its own text; quiet hours on the pinned clock.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays, pinnedClock } from '@fitsync/service-kit/clock';
import { signUnsubscribeToken } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, storageBackends, testClock } from '@fitsync/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { day } from '../subgraphs/notifications/src/events/format.js';
import { startPlatform, type Platform } from './support/platform.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

const { clock, today: TODAY } = testClock('noon');
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const admin = byEmail(DEMO_LOGINS.admin);
const gymId = gym.bookings[0].gymId;
// Other clients of the demo trainer with an active program: one the SMTP server refuses, one with a broken address.
const others = gym.programs.filter((p) => p.trainerId === trainer.id && p.clientId !== client.id && p.status === 'ACTIVE').map((p) => p.clientId);
const refused = gym.users.find((u) => u.id === others[0])!;
const broken = gym.users.find((u) => u.id === [...new Set(others)].find((id) => id !== refused.id))!;

const BOOK = 'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }';
const PREFS = `mutation($i: UpdateNotificationPreferencesInput!) { updateNotificationPreferences(input: $i) {
  kinds { kind channels } quietHours { start end } timeZone } }`;
const DELIVERIES = `query($id: ID!) { notification(id: $id) { deliveries { channel status attempts lastError nextAttemptAt } } }`;

/** Polls until `check` returns a value (not undefined/false): the positive signal a test waits for. */
let debug: (() => Promise<unknown>) | undefined;
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}${debug ? `: ${JSON.stringify(await debug())}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Hour-long slots of the demo pair on day `offset` from today, none taken in the demo gym. */
function freeSlots(offset: number): { date: string; startTime: string; endTime: string }[] {
  const date = addDays(TODAY, offset);
  const busy = gym.bookings.filter((b) => b.date === date && (b.trainerId === trainer.id || b.clientId === client.id) && b.status !== 'CANCELLED');
  const out = [];
  for (let h = 6; h < 22; h++) {
    const [start, end] = [`${String(h).padStart(2, '0')}:00:00`, `${String(h + 1).padStart(2, '0')}:00:00`];
    if (busy.every((b) => b.endTime <= start || b.startTime >= end)) out.push({ date, startTime: start.slice(0, 5), endTime: end.slice(0, 5) });
  }
  return out;
}
let nextDay = 1;
const slots: { date: string; startTime: string; endTime: string }[] = [];
const slot = () => {
  while (slots.length === 0) slots.push(...freeSlots(nextDay++));
  return slots.shift()!;
};

describe.each(storageBackends())('email notifications on %s', (backend) => {
  let platform: Platform;
  let smtp: TestSmtp;
  const as = async (user: { id: string; role: 'CLIENT' | 'TRAINER' | 'ADMIN' }, query: string, variables: Record<string, unknown> = {}) =>
    platform.query(query, variables, await platform.tokenFor(user));
  const book = async (forClient = client, at = slot()) => {
    const res = await as(trainer, BOOK, { i: { clientId: forClient.id, trainerId: trainer.id, gymId, ...at } });
    expect(res.errors).toBeUndefined();
    return res.data.createBooking.id as string;
  };
  /** The email deliveries of a booking's notifications, by recipient. */
  const emailDeliveries = (bookingIds: string[]) =>
    platform.databases.notifications.query<{
      id: string;
      notification_id: string;
      recipient_id: string;
      status: string;
      attempts: number;
      last_error: string | null;
    }>(
      `SELECT d.id, d.notification_id, d.recipient_id, d.status, d.attempts, d.last_error FROM deliveries d JOIN notifications n ON n.id = d.notification_id
       WHERE d.channel = 'EMAIL' AND n.booking_id = ANY($1::uuid[]) ORDER BY d.id`,
      [bookingIds],
    );
  const notificationOf = async (bookingId: string, recipientId: string) =>
    waitFor(`the notification of ${recipientId}`, async () => {
      await platform.settle();
      const [row] = await platform.databases.notifications.query<{ id: string }>('SELECT id FROM notifications WHERE booking_id = $1 AND recipient_id = $2', [
        bookingId,
        recipientId,
      ]);
      return row?.id;
    });
  const mailTo = (address: string, messageId?: string) =>
    smtp.inbox.filter((m) => m.to.includes(address.toLowerCase()) && (!messageId || m.messageId === messageId));
  const messageIdOf = (deliveryId: string) => `<${deliveryId}@fitsync.test>`;
  const sentMail = async (deliveryId: string, address: string) =>
    waitFor(`the email of delivery ${deliveryId}`, () => mailTo(address, messageIdOf(deliveryId))[0]);
  const emailOf = async (bookingId: string, user: { id: string; email: string }) => {
    const notificationId = await notificationOf(bookingId, user.id);
    const delivery = await waitFor('its email delivery', async () => (await emailDeliveries([bookingId])).find((d) => d.notification_id === notificationId));
    return { notificationId, delivery, mail: await sentMail(delivery.id, user.email) };
  };

  beforeAll(async () => {
    // Each backend's platform starts on a fresh gym at noon, whatever the one before did.
    clock.set(`${TODAY}T12:00:00`);
    nextDay = 1;
    slots.length = 0;
    smtp = await startSmtp();
    platform = await startPlatform(backend, [gym], { clock, env: { notifications: { SMTP_URL: smtp.url, MAIL_INTERVAL_MS: '20' } } });
    smtp.refuse.add(refused.email.toLowerCase());
    debug = () =>
      platform.databases.notifications.query(
        "SELECT d.recipient_id, d.status, d.attempts, d.last_error, d.next_attempt_at, n.type FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE d.channel = 'EMAIL' AND d.status <> 'SENT'",
      );
  }, 180_000);
  afterAll(async () => {
    await platform?.close();
    await smtp?.close();
  });
  // Each test starts from the default preferences, whatever the one before left.
  afterEach(async () => {
    await platform.databases.notifications.query('DELETE FROM notification_preferences');
    await platform.databases.notifications.query('DELETE FROM quiet_hours');
  });

  it('a booking made through the gateway emails the client the date and the trainer, and shows its deliveries', async () => {
    const at = slot();
    const bookingId = await book(client, at);
    const { notificationId, delivery, mail } = await emailOf(bookingId, client);
    expect(mail.subject).toBe('Session booked');
    expect(at.date).toBe(addDays(TODAY, 1));
    // TODAY is Sunday 31 January 2027 (testClock 'noon').
    expect(mail.text).toContain(`When: Monday 1 February, ${at.startTime}–${at.endTime}`);
    expect(mail.text).toContain(`Trainer: ${trainer.name}`);
    expect(mail.text).toContain(`Hello ${client.name},`);
    expect(mail.html).toContain(`<td>${trainer.name}</td>`);
    expect(mail.header('list-unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=/);
    expect(mail.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.messageId).toBe(messageIdOf(delivery.id));

    const seen = await as(client, DELIVERIES, { id: notificationId });
    expect(seen.errors).toBeUndefined();
    expect(seen.data.notification.deliveries).toEqual([
      { channel: 'IN_APP', status: 'SENT', attempts: 0, lastError: null, nextAttemptAt: null },
      { channel: 'EMAIL', status: 'SENT', attempts: 1, lastError: null, nextAttemptAt: null },
    ]);
    expect((await as(admin, DELIVERIES, { id: notificationId })).data.notification.deliveries).toHaveLength(2);
    expect((await as(trainer, DELIVERIES, { id: notificationId })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('what a user typed is escaped in the HTML part', async () => {
    const bookingId = await book();
    const reason = '<script>alert("x")</script> & <b>bold</b>';
    const cancelled = await as(client, 'mutation($id: ID!, $r: String) { cancelBooking(id: $id, reason: $r) { id } }', { id: bookingId, r: reason });
    expect(cancelled.errors).toBeUndefined();
    const mail = await waitFor('the trainer’s cancellation email', () =>
      mailTo(trainer.email).find((m) => m.subject === 'Session cancelled' && m.text.includes('alert')),
    );
    expect(mail.text).toContain(reason);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>bold</b>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
  });

  it('preferences turn email off for a kind, and refuse unknown kinds, channels and bad times', async () => {
    const off = await as(client, PREFS, { i: { kinds: [{ kind: 'BOOKINGS', channels: ['IN_APP'] }] } });
    expect(off.errors).toBeUndefined();
    expect(off.data.updateNotificationPreferences.kinds).toEqual([
      { kind: 'BOOKINGS', channels: ['IN_APP'] },
      { kind: 'REMINDERS', channels: ['IN_APP', 'EMAIL'] },
      { kind: 'PROGRAMS', channels: ['IN_APP', 'EMAIL'] },
      { kind: 'PROGRESS', channels: ['IN_APP'] },
      { kind: 'ACCOUNT', channels: ['IN_APP', 'EMAIL'] },
    ]);
    const at = slot();
    const bookingId = await book(client, at);
    // The trainer's email of the same booking is the sign that the sender went past it.
    await emailOf(bookingId, trainer);
    const notificationId = await notificationOf(bookingId, client.id);
    expect((await as(client, DELIVERIES, { id: notificationId })).data.notification.deliveries).toEqual([
      { channel: 'IN_APP', status: 'SENT', attempts: 0, lastError: null, nextAttemptAt: null },
    ]);
    expect((await emailDeliveries([bookingId])).map((d) => d.recipient_id)).toEqual([trainer.id]);
    // No email to the client names this session (its day and time), whatever else is still arriving.
    const when = `When: ${day(at.date, clock().toISOString())}, ${at.startTime}–${at.endTime}`;
    expect(mailTo(trainer.email).some((m) => m.text.includes(when))).toBe(true);
    expect(mailTo(client.email).filter((m) => m.text.includes(when))).toEqual([]);

    const bad = [
      { kinds: [{ kind: 'HOLIDAYS', channels: ['EMAIL'] }] },
      { kinds: [{ kind: 'BOOKINGS', channels: ['SMS'] }] },
      {
        kinds: [
          { kind: 'BOOKINGS', channels: ['EMAIL'] },
          { kind: 'BOOKINGS', channels: [] },
        ],
      },
      { quietHours: { start: '25:00', end: '07:00' } },
      { quietHours: { start: '22:00', end: '22:00' } },
    ];
    for (const i of bad) {
      const res = await as(client, PREFS, { i });
      expect(res.errors?.[0].extensions?.code, JSON.stringify(i)).toBe('BAD_USER_INPUT');
      expect(res.data ?? null).toBeNull();
    }
    expect((await as(trainer, PREFS, { i: { userId: client.id, kinds: [] } })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // Nothing of the refused updates was written.
    const now = await as(client, '{ notificationPreferences { kinds { kind channels } quietHours { start } } }');
    expect(now.data.notificationPreferences.kinds[0]).toEqual({ kind: 'BOOKINGS', channels: ['IN_APP'] });
    expect(now.data.notificationPreferences.quietHours).toBeNull();
    expect((await as(client, PREFS, { i: { kinds: [{ kind: 'BOOKINGS', channels: ['EMAIL'] }] } })).errors).toBeUndefined();
  });

  it("the unsubscribe link in an email's text turns that kind off without signing in; forged, expired and other users' links are refused", async () => {
    const bookingId = await book();
    const { mail } = await emailOf(bookingId, client);
    const link = /Stop booking emails: (\S+)/.exec(mail.text)?.[1];
    expect(link).toBeDefined();
    const token = new URL(link!).searchParams.get('token')!;

    // Signed in as someone else: refused, and nothing changes.
    const other = await fetch(link!, { headers: { authorization: `Bearer ${await platform.tokenFor(trainer)}` } });
    expect((await other.json()).errors[0].extensions.code).toBe('FORBIDDEN');

    const res = await fetch(link!);
    expect(res.headers.get('content-type')).toMatch(/application\/(graphql-response\+)?json/);
    const answer = await res.json();
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ unsubscribe: { kind: 'BOOKINGS', channels: ['IN_APP'] } });
    const prefs = await as(client, '{ notificationPreferences { kinds { kind channels } } }');
    expect(prefs.data.notificationPreferences.kinds[0]).toEqual({ kind: 'BOOKINGS', channels: ['IN_APP'] });
    // Again (a mail client's one-click POST): the same answer, nothing more changes.
    const again = await fetch(link!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect((await again.json()).data).toEqual({ unsubscribe: { kind: 'BOOKINGS', channels: ['IN_APP'] } });

    const put = await fetch(link!, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect((await put.json()).errors[0].extensions.code).toBe('BAD_REQUEST');

    const base = new URL(link!);
    const refusal = async (t: string) => {
      base.searchParams.set('token', t);
      const body = await (await fetch(base)).json();
      expect(body.data ?? null).toBeNull();
      return body.errors[0].extensions;
    };
    const [header, payload, signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: trainer.id })).toString('base64url');
    expect(await refusal(`${header}.${forgedPayload}.${signature}`)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TOKEN' });
    expect(await refusal('not-a-token')).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TOKEN' });
    expect(await refusal('')).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TOKEN' });
    // A sign-in token is no unsubscribe token.
    expect(await refusal(await platform.tokenFor(client))).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TOKEN' });
    const longAgo = pinnedClock(new Date(clock().getTime() - 61 * 86_400_000));
    const expired = await signUnsubscribeToken({ userId: client.id, kind: 'BOOKINGS', channel: 'EMAIL' }, TEST_JWT_SECRET, '60d', longAgo);
    expect(await refusal(expired)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'EXPIRED_TOKEN' });
    const otherKey = await signUnsubscribeToken({ userId: client.id, kind: 'BOOKINGS', channel: 'EMAIL' }, 'another-secret-0123456789abcdef', '60d', clock);
    expect(await refusal(otherKey)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TOKEN' });
    // With TRUSTED_DOCUMENTS=enforce the link still runs (its document is registered), where an unregistered one is refused.
    const strict = await platform.startGateway({}, { TRUSTED_DOCUMENTS: 'enforce' });
    try {
      const origin = new URL(strict.url).origin;
      const viaStrict = await (await fetch(`${origin}/unsubscribe?token=${token}`)).json();
      expect(viaStrict.data).toEqual({ unsubscribe: { kind: 'BOOKINGS', channels: ['IN_APP'] } });
      const unregistered = await fetch(strict.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($t: String!) { unsubscribe(token: $t) { kind } }', variables: { t: token } }),
      });
      expect((await unregistered.json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    } finally {
      await strict.close();
    }
    // Only the link's user changed: the trainer still gets booking emails.
    const trainerPrefs = await as(trainer, '{ notificationPreferences { kinds { kind channels } } }');
    expect(trainerPrefs.data.notificationPreferences.kinds[0]).toEqual({ kind: 'BOOKINGS', channels: ['IN_APP', 'EMAIL'] });
    expect((await as(client, PREFS, { i: { kinds: [{ kind: 'BOOKINGS', channels: ['IN_APP', 'EMAIL'] }] } })).errors).toBeUndefined();
  });

  it('no address, a broken address and a 5xx refusal are recorded permanent failures, not retried', async () => {
    await platform.databases.users.query("UPDATE users SET email = 'not-an-address' WHERE id = $1", [broken.id]);
    const refusedBooking = await book(refused);
    const brokenBooking = await book(broken);
    const failed = async (bookingId: string, userId: string) =>
      waitFor('a permanent failure', async () => {
        const notificationId = await notificationOf(bookingId, userId);
        const d = (await emailDeliveries([bookingId])).find((x) => x.notification_id === notificationId);
        return d?.status === 'FAILED' ? d : undefined;
      });
    const r = await failed(refusedBooking, refused.id);
    expect(r.attempts).toBe(1);
    expect(r.last_error).toMatch(/^550/);
    const b = await failed(brokenBooking, broken.id);
    expect(b).toMatchObject({ attempts: 0, last_error: 'the email address is not valid' });
    expect(mailTo(refused.email)).toHaveLength(0);
    // The trainer's emails of the same bookings went out.
    await emailOf(refusedBooking, trainer);
    await emailOf(brokenBooking, trainer);
  });

  it('the same event delivered twice sends one email', async () => {
    const { handleEvent } = await import('@fitsync/service-kit/testing');
    const { onBookingCreated } = await import('../subgraphs/notifications/src/events/bookings.js');
    const bookingId = await book();
    const first = await emailOf(bookingId, client);
    const [{ envelope }] = await platform.databases.schedule.query<{ envelope: any }>(
      "SELECT envelope FROM event_outbox WHERE channel = 'booking.created' AND envelope->'data'->>'booking_id' = $1",
      [bookingId],
    );
    // Past the consumer's inbox: the handler itself sees the event again, twice.
    await handleEvent(platform.databases.notifications, 'notifications', onBookingCreated, envelope);
    await handleEvent(platform.databases.notifications, 'notifications', onBookingCreated, envelope);
    // A later booking's email is the sign that the sender ran after the duplicates.
    const later = await book();
    await emailOf(later, client);
    expect(await emailDeliveries([bookingId])).toHaveLength(2);
    expect(mailTo(client.email, first.mail.messageId)).toHaveLength(1);
    expect(smtp.inbox.filter((m) => m.header('x-fitsync-delivery') === first.delivery.id)).toHaveLength(1);
  });

  it('quiet hours hold email until they end, on the gym clock', async () => {
    // The clock stands at 12:00 gym time.
    const set = await as(client, PREFS, { i: { quietHours: { start: '11:30', end: '13:00' } } });
    expect(set.data.updateNotificationPreferences.quietHours).toEqual({ start: '11:30', end: '13:00' });
    const bookingId = await book();
    // The trainer has no quiet hours: their email going out is the sign that the sender saw the client's too.
    await emailOf(bookingId, trainer);
    const notificationId = await notificationOf(bookingId, client.id);
    const held = await waitFor('the client’s email held', async () => {
      const d = (await as(client, DELIVERIES, { id: notificationId })).data.notification.deliveries.find((x: any) => x.channel === 'EMAIL');
      return d?.nextAttemptAt ? d : undefined;
    });
    expect(held).toMatchObject({ status: 'QUEUED', attempts: 0 });
    expect(new Date(held.nextAttemptAt).getTime()).toBe(new Date(`${TODAY}T13:00:00`).getTime());
    const [delivery] = (await emailDeliveries([bookingId])).filter((d) => d.recipient_id === client.id);
    expect(mailTo(client.email, messageIdOf(delivery.id))).toHaveLength(0);

    clock.set(`${TODAY}T13:00:00`);
    await sentMail(delivery.id, client.email);
    expect((await as(client, DELIVERIES, { id: notificationId })).data.notification.deliveries[1]).toMatchObject({ status: 'SENT', attempts: 1 });
    expect((await as(client, PREFS, { i: { quietHours: null } })).data.updateNotificationPreferences.quietHours).toBeNull();
  });

  it('with the SMTP server down while 50 bookings are made, each email arrives exactly once when it is back', async () => {
    smtp.down();
    const bookings: string[] = [];
    for (let i = 0; i < 50; i++) bookings.push(await book());
    // Every email was tried and put back for a retry: what would have been sent was.
    const tried = await waitFor(
      'a failed attempt at each of the 100 emails',
      async () => {
        await platform.settle();
        const rows = await emailDeliveries(bookings);
        return rows.length === 100 && rows.every((d) => d.status === 'QUEUED' && d.attempts >= 1 && d.last_error) ? rows : undefined;
      },
      60_000,
    );
    expect(smtp.inbox.filter((m) => tried.some((d) => m.messageId === messageIdOf(d.id)))).toHaveLength(0);

    smtp.up();
    // Past the longest backoff: everything is due again.
    clock.advance(2 * 3_600_000);
    const sent = await waitFor(
      'all 100 emails sent',
      async () => {
        const rows = await emailDeliveries(bookings);
        return rows.every((d) => d.status === 'SENT') ? rows : undefined;
      },
      60_000,
    );
    for (const d of sent)
      expect(
        smtp.inbox.filter((m) => m.messageId === messageIdOf(d.id)),
        d.id,
      ).toHaveLength(1);
    const clientMail = smtp.inbox.filter((m) => sent.some((d) => d.recipient_id === client.id && m.messageId === messageIdOf(d.id)));
    expect(clientMail).toHaveLength(50);
    expect(new Set(clientMail.map((m) => m.text.match(/When: (.*)/)?.[1])).size).toBe(50);

    const metrics = await (await fetch(new URL('/metrics', platform.subgraphs.notifications.url))).text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(value('fitsync_mail_retried_total')).toBeGreaterThanOrEqual(100);
    expect(value('fitsync_mail_sent_total')).toBeGreaterThanOrEqual(100);
    expect(value('fitsync_mail_failed_total')).toBeGreaterThanOrEqual(2);
    expect(value('fitsync_mail_queued')).toBe(0);
  }, 150_000);
});
