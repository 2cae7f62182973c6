import { randomUUID } from 'node:crypto';
import {
  createCounter,
  createGauge,
  signUnsubscribeToken,
  userSecrets,
  type Database,
  type Logger,
  type Metrics,
  type Queryable,
  type ServiceConfig,
} from '@fitsync/service-kit';
import type { Clock } from '@fitsync/service-kit/clock';
import type { NotificationKind, NotificationType } from '../__generated__/resolvers-types.js';
import { KIND_OF, preferencesOf, quietUntil } from '../preferences.js';
import { factsFor, recipientsOf, type FactsClients } from './facts.js';
import { renderMail } from './templates.js';
import { isPermanentRefusal, mailErrorText, type MailTransport } from './transport.js';

/** Email deliveries claimed per statement; a run claims batches until none is due. */
const BATCH = 25;
/** How long a claim holds: a sender that crashed mid-batch leaves its rows to another after this. */
const LEASE_MS = 5 * 60_000;
/** Retries wait 30 s, 1 min, 2 min, ... up to an hour, and never stop: a server that is down delays mail, never drops it. */
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3_600_000;
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

interface Claimed {
  id: string;
  recipient_id: string;
  attempts: number;
  type: NotificationType;
  title: string;
  message: string;
  booking_id: string | null;
  program_id: string | null;
  created_at: Date;
}

/**
 * Takes due email deliveries for this sender: SKIP LOCKED lets replicas claim at once, each
 * other rows, and the lease (claimed_until) keeps a row claimed by one from another until
 * it has been sent or put back. The claim commits before anything is sent.
 */
const CLAIM_SQL = `
UPDATE deliveries d SET claimed_until = $2
FROM notifications n
WHERE n.id = d.notification_id AND d.id IN (
  SELECT id FROM deliveries
  WHERE status = 'QUEUED' AND channel = 'EMAIL' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
  ORDER BY next_attempt_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.recipient_id, d.attempts, n.type, n.title, n.message, n.booking_id, n.program_id, n.created_at`;

const finish = (q: Queryable, id: string, status: 'SENT' | 'FAILED' | 'SKIPPED', at: Date, error: string | null, attempted: boolean) =>
  q.query(
    `UPDATE deliveries SET status = $2, sent_at = CASE WHEN $2 = 'SENT' THEN $3::timestamptz END, last_error = $4,
       attempts = attempts + $5, claimed_until = NULL WHERE id = $1`,
    [id, status, at, error, attempted ? 1 : 0],
  );

const putBack = (q: Queryable, id: string, due: Date, error: string | null, attempted: boolean) =>
  q.query('UPDATE deliveries SET next_attempt_at = $2, last_error = COALESCE($3, last_error), attempts = attempts + $4, claimed_until = NULL WHERE id = $1', [
    id,
    due,
    error,
    attempted ? 1 : 0,
  ]);

export interface SenderRun {
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  held: number;
}

export interface MailSenderOptions {
  db: Database;
  log: Logger;
  config: ServiceConfig;
  clock: Clock;
  clients: FactsClients;
  transport: MailTransport;
  metrics?: Metrics;
}

/** The domain of Message-IDs: MAIL_FROM's. */
const messageDomain = (from: string) => /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'fitsync.local';
// Plain enough for any SMTP server; mailboxes with quotes or IP literals are not FitSync's users.
const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/**
 * Works off due email: claims a batch, checks each against its recipient's preferences and
 * quiet hours (as they are now, not when the notification was written), reads addresses and
 * facts in batched calls, and sends one message at a time, each marked sent as soon as the
 * server took it: a crash can resend at most the message in flight, with the same Message-ID.
 */
export function createMailSender(opts: MailSenderOptions) {
  const { db, config, clock, clients, transport } = opts;
  const log = opts.log.child({ job: 'mail-sender' });
  const counter = (name: string, help: string) => (opts.metrics ? createCounter(opts.metrics, { name, help, labelNames: [] }) : undefined);
  const sentTotal = counter('fitsync_mail_sent_total', 'Emails the SMTP server (or the mail folder) took');
  const retriedTotal = counter('fitsync_mail_retried_total', 'Email sends that failed for now and wait for a retry (SMTP down, 4xx, a service down)');
  const failedTotal = counter('fitsync_mail_failed_total', 'Emails given up for good (no or an invalid address, a 5xx refusal)');
  // Counted when scraped, not at the end of a run: a scrape between the last send and the end of its run would say what was.
  if (opts.metrics) {
    createGauge(opts.metrics, {
      name: 'fitsync_mail_queued',
      help: 'Emails waiting to be sent (retries and quiet hours included)',
      labelNames: [],
      async collect() {
        try {
          const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE status = 'QUEUED' AND channel = 'EMAIL'");
          this.set(row.n);
        } catch {
          // The database is away: the last count stands (the scrape itself must still answer).
        }
      },
    });
  }
  const domain = messageDomain(config.mail.from);

  async function sendBatch(batch: Claimed[], now: Date, run: SenderRun, correlationId: string) {
    const ids = [...new Set(batch.map((d) => d.recipient_id))];
    const prefs = await preferencesOf(db, ids);
    const ready: Claimed[] = [];
    for (const d of batch) {
      const p = prefs.get(d.recipient_id)!;
      const kind = KIND_OF[d.type];
      if (!p.email[kind]) {
        await finish(db, d.id, 'SKIPPED', now, `email turned off for ${kind.toLowerCase()}`, false);
        run.skipped++;
        continue;
      }
      const until = quietUntil(p.quietHours, now);
      if (until) {
        await putBack(db, d.id, until, null, false);
        run.held++;
        continue;
      }
      ready.push(d);
    }
    if (ready.length === 0) return;
    let recipients: Awaited<ReturnType<typeof recipientsOf>>;
    let facts: Awaited<ReturnType<typeof factsFor>> = [];
    const sendable: { d: Claimed; index: number }[] = [];
    const given = new Set<string>();
    try {
      recipients = await recipientsOf(
        clients,
        ready.map((d) => d.recipient_id),
        correlationId,
      );
      const requests = [];
      for (const d of ready) {
        const r = recipients.get(d.recipient_id);
        const problem = !r ? 'no such user' : !r.email ? 'the user has no email address' : !ADDRESS.test(r.email) ? 'the email address is not valid' : null;
        if (problem) {
          await finish(db, d.id, 'FAILED', now, problem, false);
          given.add(d.id);
          failedTotal?.inc();
          run.failed++;
          continue;
        }
        sendable.push({ d, index: requests.length });
        requests.push({ recipient: r!, bookingId: d.booking_id, programId: d.program_id });
      }
      facts = await factsFor(clients, config, clock, requests, correlationId);
    } catch (err) {
      // A service that is down delays these emails like an SMTP server that is.
      log.warn({ err }, 'cannot read what the emails need; retrying later');
      for (const d of ready) if (!given.has(d.id)) await retry(d, now, `cannot read recipients or facts: ${(err as Error).message}`, run);
      return;
    }
    for (const { d, index } of sendable) {
      const r = recipients.get(d.recipient_id)!;
      const kind: NotificationKind = KIND_OF[d.type];
      const token = await signUnsubscribeToken({ userId: d.recipient_id, kind, channel: 'EMAIL' }, userSecrets(config), config.mail.unsubscribeTtl, clock);
      const unsubscribe = `${config.mail.publicUrl}/unsubscribe?token=${token}`;
      const mail = renderMail(d, kind, facts[index], { unsubscribe });
      try {
        await transport.send({
          messageId: `<${d.id}@${domain}>`,
          from: config.mail.from,
          to: { name: r.name, address: r.email! },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          date: now,
          headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-FitSync-Delivery': d.id },
        });
      } catch (err) {
        if (isPermanentRefusal(err)) {
          await finish(db, d.id, 'FAILED', now, mailErrorText(err), true);
          failedTotal?.inc();
          run.failed++;
          log.warn({ delivery: d.id, error: mailErrorText(err) }, 'email refused for good');
        } else await retry(d, now, mailErrorText(err), run);
        continue;
      }
      await finish(db, d.id, 'SENT', now, null, true);
      sentTotal?.inc();
      run.sent++;
    }
  }

  async function retry(d: Claimed, now: Date, error: string, run: SenderRun) {
    await putBack(db, d.id, new Date(now.getTime() + backoffMs(d.attempts + 1)), error, true);
    retriedTotal?.inc();
    run.retried++;
  }

  return {
    /** One run: batches until nothing is due at the clock's now. */
    async runOnce(): Promise<SenderRun> {
      const run: SenderRun = { sent: 0, retried: 0, failed: 0, skipped: 0, held: 0 };
      const correlationId = `mail-${randomUUID()}`;
      for (;;) {
        const now = clock();
        const batch = await db.query<Claimed>(CLAIM_SQL, [now, new Date(now.getTime() + LEASE_MS), BATCH]);
        if (batch.length === 0) break;
        await sendBatch(batch, now, run, correlationId);
      }
      if (run.sent + run.retried + run.failed + run.skipped + run.held > 0) log.info({ ...run, correlationId }, 'mail run');
      return run;
    },
  };
}

export type MailSender = ReturnType<typeof createMailSender>;

/**
 * Runs the sender now and then every `intervalMs` (one run at a time; a failed run is logged
 * and retried at the next tick). What is due lives in the database, so a restart carries on.
 */
export function startMailSender(sender: MailSender, opts: { log: Logger; intervalMs: number; transport: MailTransport }): { close(): Promise<void> } {
  const log = opts.log.child({ job: 'mail-sender' });
  if (opts.intervalMs <= 0) {
    log.info('mail sender off (MAIL_INTERVAL_MS=0)');
    return { close: async () => opts.transport.close() };
  }
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sender
      .runOnce()
      .then(
        () => undefined,
        (err: unknown) => log.error({ err }, 'mail run failed; retrying at the next tick'),
      )
      .finally(() => {
        if (!closed) timer = setTimeout(tick, opts.intervalMs).unref();
      });
  };
  timer = setTimeout(tick, 0).unref();
  log.info({ interval_ms: opts.intervalMs, to: opts.transport.description }, 'mail sender started');
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      opts.transport.close();
    },
  };
}
