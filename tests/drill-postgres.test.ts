// Fault drill: Postgres "restarts" under a stream of mutations. The shared server cannot be
// restarted, so every connection of one service's pool is terminated (pg_terminate_backend,
// found in pg_stat_activity by that pool's application_name, which names this test's own
// schema), again and again, while a client records body metrics through the gateway. Each
// mutation either commits with its event in the outbox or fails with a clean coded error;
// nothing is half-written; the service recovers without a restart and its relay delivers
// every event it wrote.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { testClock, storageBackends } from '@fitsync/service-kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const RECORD = 'mutation Record($w: Float!) { recordBodyMetrics(input: { weightKg: $w, notes: "drill" }) { id weightKg } }';
const CONCURRENCY = 3;
/** A mutation's weight tells it apart: 1000.0, 1000.1, ... (no demo gym's value is near these). */
const weightOf = (n: number) => (10_000 + n) / 10;

const postgres = storageBackends().includes('postgres');

describe.runIf(postgres)('Postgres connections of a service dropped under mutations', () => {
  let platform: Platform;
  let admin: pg.Client;
  beforeAll(async () => {
    platform = await startPlatform('postgres', [gym], { clock });
    admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await platform?.close();
  });

  it('commits each mutation with its event or refuses it cleanly, and recovers on its own', async () => {
    const token = await platform.tokenFor(client);
    const schema = platform.databases.progress.location.split('@')[0];
    const appName = `fitsync-progress ${schema}`.slice(0, 63);
    /** Terminates every connection the progress pool holds (never anyone else's); how many it ended. */
    const dropConnections = async () => {
      const { rows } = await admin.query<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [appName],
      );
      return rows.filter((r) => r.ended).length;
    };
    const warm = await platform.query(RECORD, { w: weightOf(0) }, token);
    expect(warm.errors).toBeUndefined();

    interface Outcome {
      n: number;
      status: number;
      body: GraphQLResult;
    }
    const outcomes: Outcome[] = [];
    let next = 1;
    let running = true;
    const load = Array.from({ length: CONCURRENCY }, async () => {
      while (running) {
        const n = next++;
        const res = await fetch(platform.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: RECORD, variables: { w: weightOf(n) } }),
        });
        outcomes.push({ n, status: res.status, body: (await res.json()) as GraphQLResult });
      }
    });
    const ok = (o: Outcome) => o.body.errors === undefined && o.body.data?.recordBodyMetrics?.id;
    let ended = 0;
    try {
      // Rounds: let some mutations through, then cut every connection the pool has; at least five,
      // and until one cut caught a mutation in its transaction (the case this drill is about).
      for (let round = 0; round < 5 || !outcomes.some((o) => !ok(o)); round++) {
        if (round >= 40) throw new Error('40 rounds of dropped connections and no mutation was caught in flight');
        const before = outcomes.filter(ok).length;
        await vi.waitFor(() => expect(outcomes.filter(ok).length).toBeGreaterThanOrEqual(before + 3), { timeout: 20_000, interval: 10 });
        ended += await dropConnections();
      }
      // ... and it recovers without a restart: later mutations succeed again.
      const after = outcomes.length;
      await vi.waitFor(() => expect(outcomes.slice(after).filter(ok).length).toBeGreaterThanOrEqual(5), { timeout: 20_000, interval: 10 });
    } finally {
      running = false;
      await Promise.all(load);
    }
    expect(ended).toBeGreaterThan(0);
    expect(outcomes.filter((o) => !ok(o)).length).toBeGreaterThan(0);

    // Every answer: 200, and either the row or coded errors that tell nothing of the inside.
    const failed = outcomes.filter((o) => !ok(o));
    for (const o of outcomes) {
      expect(o.status, JSON.stringify(o.body)).toBe(200);
      if (ok(o)) {
        expect(o.body.data!.recordBodyMetrics.weightKg).toBe(weightOf(o.n));
        continue;
      }
      expect(o.body.errors?.length).toBeGreaterThan(0);
      for (const e of o.body.errors!) {
        expect(e, JSON.stringify(e)).toMatchObject({
          message: 'The progress service is unavailable',
          extensions: { code: 'SERVICE_UNAVAILABLE', service: 'progress' },
        });
        expect(JSON.stringify(e)).not.toMatch(/terminat|connection|SELECT|INSERT|body_metrics|postgres|\n\s+at |\.ts:/i);
      }
    }

    // Nothing half-written: the rows the drill wrote and the events in the outbox are the same set,
    // and every mutation that answered with a row is among them.
    const rows = await platform.databases.progress.query<{ id: string; weight_kg: number }>(
      "SELECT id, weight_kg FROM body_metrics WHERE client_id = $1 AND notes = 'drill'",
      [client.id],
    );
    const events = await platform.databases.progress.query<{ weight: number; published: boolean }>(
      `SELECT (envelope->'data'->'new_value'->>'weight_kg')::float AS weight, published_at IS NOT NULL AS published
         FROM event_outbox WHERE channel = 'progress.updated' AND envelope->'data'->>'client_id' = $1`,
      [client.id],
    );
    const drillWeights = (ws: number[]) => ws.filter((w) => w >= 1000).sort((a, b) => a - b);
    expect(drillWeights(events.map((e) => e.weight))).toEqual(drillWeights(rows.map((r) => r.weight_kg)));
    const stored = new Set(rows.map((r) => r.id));
    for (const o of outcomes.filter(ok)) expect(stored).toContain(o.body.data!.recordBodyMetrics.id);
    // Each answered row once: a failed mutation left at most its own row (a commit whose answer was lost).
    expect(rows.length).toBeLessThanOrEqual(outcomes.length + 1);
    expect(rows.length).toBeGreaterThanOrEqual(outcomes.length - failed.length + 1);

    // The relay got through the outage too: every event written is delivered.
    await platform.settle(20_000);
    const unpublished = await platform.databases.progress.query<{ n: number }>('SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL');
    expect(unpublished[0].n).toBe(0);
  }, 60_000);
});
