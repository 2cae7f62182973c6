// The mail sender against a real SMTP server: two replicas on one database never send the same
// delivery twice (SKIP LOCKED claims), and a sender that died after the SMTP answer but before
// marking the row leaves it to another, which resends that one message with the same Message-ID.
import { randomUUID } from 'node:crypto';
import { demoGym } from '@fitsync/demo-data';
import type { EventEnvelope } from '@fitsync/events';
import { onUserUpdated } from '../subgraphs/notifications/src/events/users.js';
import { createMailSender } from '../subgraphs/notifications/src/mail/sender.js';
import { createMailTransport } from '../subgraphs/notifications/src/mail/transport.js';
import { createLogger, createServiceClients, dropPostgresSchema, openDatabase, type Database } from '@fitsync/service-kit';
import { handleEvent, startTestSubgraphs, storageBackends, testClock, testConfig, uniqueSchemaPrefix, type TestSubgraphs } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SUBGRAPHS } from '../scripts/subgraphs.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

const { clock, today } = testClock('noon');
const gym = demoGym(today);
const people = gym.users.slice(0, 30);
const log = createLogger('notifications', 'silent');

describe.each(storageBackends())('the mail sender on %s', (backend) => {
  let smtp: TestSmtp;
  let users: TestSubgraphs;
  const schema = `${uniqueSchemaPrefix()}_notifications`;
  // Two replicas: on Postgres each with its own pool on one schema; PGlite is one process's database.
  let dbs: Database[];
  const senders: ReturnType<typeof createMailSender>[] = [];
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    smtp = await startSmtp();
    users = await startTestSubgraphs(
      backend,
      [
        {
          name: 'users',
          migrationsDir: ALL_SUBGRAPHS.users.definition.migrationsDir,
          seed: (db) => ALL_SUBGRAPHS.users.seed(db, gym),
          start: ALL_SUBGRAPHS.users.start,
        },
      ],
      clock,
    );
    const open = () =>
      openDatabase({
        service: 'notifications',
        migrationsDir: ALL_SUBGRAPHS.notifications.definition.migrationsDir,
        log,
        databaseUrl: backend === 'postgres' ? process.env.DATABASE_URL : undefined,
        schema,
        dataDir: 'memory://',
      });
    const first = await open();
    dbs = backend === 'postgres' ? [first, await open()] : [first, first];
    for (const db of dbs) {
      const config = testConfig('notifications', backend, undefined, { SMTP_URL: smtp.url });
      config.subgraphUrls = { ...config.subgraphUrls, users: users.servers.users!.url };
      const clients = createServiceClients(config, ['users', 'schedule', 'training'], log);
      const transport = createMailTransport(config.mail, config.dataDir);
      senders.push(createMailSender({ db, log, config, clock, clients, transport }));
      closers.push(() => {
        transport.close();
        for (const c of Object.values(clients)) c.close();
      });
    }
  }, 120_000);
  afterAll(async () => {
    for (const close of closers) close();
    await Promise.all([...new Set(dbs ?? [])].map((db) => db.close()));
    if (backend === 'postgres') await dropPostgresSchema(process.env.DATABASE_URL!, schema);
    await users?.close();
    await smtp?.close();
  });

  /** A profile change of each user: one notification each, with an email queued (account emails are on by default). */
  async function notifyAll(): Promise<string[]> {
    for (const u of people) {
      const event: EventEnvelope<'user.updated'> = {
        event_id: randomUUID(),
        event: 'user.updated',
        timestamp: clock().toISOString(),
        correlation_id: randomUUID(),
        source: 'users',
        data: { user_id: u.id, changes: ['name'] },
      };
      await handleEvent(dbs[0], 'notifications', onUserUpdated, event);
    }
    const rows = await dbs[0].query<{ id: string }>("SELECT id FROM deliveries WHERE channel = 'EMAIL' AND status = 'QUEUED' ORDER BY id");
    expect(rows).toHaveLength(people.length);
    return rows.map((r) => r.id);
  }

  it('two replicas working at once send each email exactly once', async () => {
    const ids = await notifyAll();
    const runs = await Promise.all([...senders, ...senders].map((s) => s.runOnce()));
    expect(runs.reduce((n, r) => n + r.sent, 0)).toBe(people.length);
    const rows = await dbs[0].query<{ status: string; attempts: number }>('SELECT status, attempts FROM deliveries WHERE id = ANY($1::uuid[])', [ids]);
    expect(rows.every((r) => r.status === 'SENT' && r.attempts === 1)).toBe(true);
    for (const id of ids)
      expect(
        smtp.inbox.filter((m) => m.messageId === `<${id}@fitsync.test>`),
        id,
      ).toHaveLength(1);
    expect(new Set(smtp.inbox.map((m) => m.to[0]))).toEqual(new Set(people.map((p) => p.email.toLowerCase())));
  });

  it('a sender that died after the SMTP answer leaves one message to resend, with the same Message-ID, once its lease ends', async () => {
    const event: EventEnvelope<'user.updated'> = {
      event_id: randomUUID(),
      event: 'user.updated',
      timestamp: clock().toISOString(),
      correlation_id: randomUUID(),
      source: 'users',
      data: { user_id: people[0].id, changes: ['phone'] },
    };
    await handleEvent(dbs[0], 'notifications', onUserUpdated, event);
    const [{ id }] = await dbs[0].query<{ id: string }>("SELECT id FROM deliveries WHERE channel = 'EMAIL' AND status = 'QUEUED'");
    // What the dead sender did: claimed it (a five-minute lease) and got it sent, but never marked it.
    await dbs[0].query('UPDATE deliveries SET claimed_until = $2 WHERE id = $1', [id, new Date(clock().getTime() + 5 * 60_000)]);
    const before = smtp.inbox.length;
    // While the lease holds, no replica takes it.
    expect((await Promise.all(senders.map((s) => s.runOnce()))).map((r) => r.sent)).toEqual([0, 0]);
    clock.advance(5 * 60_000);
    const after = await Promise.all(senders.map((s) => s.runOnce()));
    expect(after.reduce((n, r) => n + r.sent, 0)).toBe(1);
    expect(smtp.inbox.slice(before).map((m) => m.messageId)).toEqual([`<${id}@fitsync.test>`]);
  });

  it('mail for a user users does not know is a recorded permanent failure, and the rest of the batch goes out', async () => {
    const ghost = randomUUID();
    for (const user_id of [ghost, people[1].id]) {
      await handleEvent(dbs[0], 'notifications', onUserUpdated, {
        event_id: randomUUID(),
        event: 'user.updated',
        timestamp: clock().toISOString(),
        correlation_id: randomUUID(),
        source: 'users',
        data: { user_id, changes: ['name'] },
      });
    }
    const run = await senders[0].runOnce();
    expect(run).toMatchObject({ sent: 1, failed: 1, retried: 0 });
    const rows = await dbs[0].query<{ recipient_id: string; status: string; attempts: number; last_error: string | null }>(
      "SELECT recipient_id, status, attempts, last_error FROM deliveries WHERE channel = 'EMAIL' AND recipient_id = ANY($1::uuid[]) AND status <> 'SENT' ORDER BY recipient_id",
      [[ghost, people[1].id]],
    );
    expect(rows).toEqual([{ recipient_id: ghost, status: 'FAILED', attempts: 0, last_error: 'no such user' }]);
  });
});
