import { randomUUID } from 'node:crypto';
import { openTestDatabase, storageBackends } from '@fitsync/service-kit/testing';
import type { Database } from '@fitsync/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedClock } from '@fitsync/service-kit/clock';
import { ProgressStore } from '../store.js';
import { progressSubgraph } from '../server.js';

// The summary's calendar rules with the clock pinned, so every branch runs whatever
// day the suite runs on: a streak that includes this week, one that starts last week,
// a broken one, ISO weeks across a new year, and the 30-day weight comparison.
const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
const logs: [string, string][] = [
  [a, '2026-11-24'], // Tuesday of the pinned week (today is Wednesday 2026-11-25)
  [a, '2026-11-24'],
  [a, '2026-11-17'],
  [a, '2026-11-10'],
  [a, '2026-10-27'], // after a week without workouts: not in the streak
  [a, '2026-11-28'], // not happened yet: counted in the month and total, not in the streak
  [b, '2026-11-18'],
  [b, '2026-11-11'],
  [c, '2026-11-10'],
  [d, '2026-12-29'], // ISO week 53 of 2026 ...
  [d, '2026-12-22'],
  [d, '2026-12-20'], // ... 52 (Sunday), ... 51 (Sunday)
];
const metrics: [string, string, number | null, number | null][] = [
  [a, '2026-11-20T12:00:00Z', 80.0, null],
  [a, '2026-11-22T08:00:00Z', null, 21.5], // newer, without a weight
  [a, '2026-10-25T12:00:00Z', 81.0, 23.0], // 26 days before the latest weight: too recent
  [a, '2026-10-21T12:00:00Z', 82.5, 24.0], // exactly 30 days before
  [a, '2026-10-01T12:00:00Z', 83.0, 24.5],
  [b, '2026-11-20T12:00:00Z', 70.2, 18.0], // one weight only: no change
];

describe.each(storageBackends())('progress summary with a pinned clock on %s', (backend) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const summary = (today: string, ids: string[]) => {
    const store = new ProgressStore(db, pinnedClock(`${today}T12:00:00`));
    return Promise.all(ids.map((id) => store.summary(id)));
  };

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('progress', progressSubgraph.migrationsDir, backend));
    for (const [client, date] of logs) {
      await db.query('INSERT INTO workout_logs (id, client_id, workout_date) VALUES ($1, $2, $3)', [randomUUID(), client, date]);
    }
    for (const [client, at, weight, fat] of metrics) {
      await db.query('INSERT INTO body_metrics (id, client_id, recorded_at, weight_kg, body_fat_percentage) VALUES ($1, $2, $3, $4, $5)', [
        randomUUID(),
        client,
        at,
        weight,
        fat,
      ]);
    }
    await db.query(
      "INSERT INTO goals (id, client_id, metric, target_value, status) VALUES ($1, $2, 'WEIGHT_KG', 75, 'ACTIVE'), ($3, $2, 'WEIGHT_KG', 78, 'ABANDONED')",
      [randomUUID(), a, randomUUID()],
    );
  });
  afterAll(() => dispose?.());

  it('computes all clients in one statement', async () => {
    const before = db.stats.statements;
    const rows = await summary('2026-11-25', [a, b, c, d]);
    expect(db.stats.statements - before).toBe(1);
    expect(rows.map((r) => r.client_id)).toEqual([a, b, c, d]);
  });

  it('counts weekly streaks from this week, or from last week when this one has none yet', async () => {
    const [sa, sb, sc] = await summary('2026-11-25', [a, b, c]);
    expect(sa.current_streak_weeks).toBe(3);
    expect(sb.current_streak_weeks).toBe(2);
    expect(sc.current_streak_weeks).toBe(0);
    // On the Monday after, a's streak still stands (through last week); b's has ended.
    const [ma, mb] = await summary('2026-11-30', [a, b]);
    expect(ma.current_streak_weeks).toBe(3);
    expect(mb.current_streak_weeks).toBe(0);
  });

  it('uses ISO weeks across the new year and the calendar month of today', async () => {
    const [sd] = await summary('2027-01-01', [d]);
    expect(sd).toMatchObject({ current_streak_weeks: 3, workouts_this_month: 0, total_workouts: 3, last_workout_date: '2026-12-29' });
    const [dec] = await summary('2026-12-31', [d]);
    expect(dec.workouts_this_month).toBe(3);
  });

  it('compares the latest weight with the latest one at least 30 days older', async () => {
    const [sa, sb, sc] = await summary('2026-11-25', [a, b, c]);
    expect(sa).toEqual({
      client_id: a,
      latest_weight_kg: 80,
      weight_change_30d_kg: -2.5,
      latest_body_fat_percentage: 21.5,
      workouts_this_month: 5,
      current_streak_weeks: 3,
      total_workouts: 6,
      last_workout_date: '2026-11-28',
      active_goals: 1,
    });
    expect(sb).toMatchObject({ latest_weight_kg: 70.2, weight_change_30d_kg: null, latest_body_fat_percentage: 18, active_goals: 0 });
    expect(sc).toMatchObject({ latest_weight_kg: null, weight_change_30d_kg: null, workouts_this_month: 1, total_workouts: 1 });
  });
});
