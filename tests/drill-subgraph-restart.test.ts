// Fault drill: a subgraph stopped, then started again, while clients keep opening their
// dashboards. Every answer is a 200 with GraphQL JSON; the parts the other subgraphs own are
// always there; while progress is down its fields are null, each with SERVICE_UNAVAILABLE and
// the path it emptied; once it is back (on a new port) full dashboards come back on their own.
import { demoGym } from '@fitsync/demo-data';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { operation } from './support/operations.js';
import { startPlatform, type GraphQLResult, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const DASHBOARD = operation('ClientDashboard');
const CONCURRENCY = 4;
/** The fields progress owns on ClientDashboard (`me.activePrograms[].adherence` is one too). */
const PROGRESS_FIELDS = ['progress', 'achievements'] as const;

interface Answer {
  phase: 'up' | 'down' | 'back';
  status: number;
  contentType: string;
  body: GraphQLResult;
  clientName: string;
}

describe('a subgraph stopped and restarted under a steady load of dashboards', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('always serves the rest of the dashboard, says which part is missing while it is down, and is whole again after the restart', async () => {
    const clients = gym.users.filter((u) => u.role === 'CLIENT').slice(0, CONCURRENCY);
    const tokens = await Promise.all(clients.map((c) => platform.tokenFor(c)));
    const healthy = new Map<string, GraphQLResult>();
    for (const [i, c] of clients.entries()) {
      const res = await platform.query(DASHBOARD, {}, tokens[i]);
      expect(res.errors).toBeUndefined();
      healthy.set(c.name, res);
    }

    const answers: Answer[] = [];
    let phase: Answer['phase'] = 'up';
    let running = true;
    // One loop per client, each sending its next dashboard as soon as the last one answered.
    const load = clients.map(async (c, i) => {
      while (running) {
        const sentIn = phase;
        const res = await fetch(platform.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
          body: JSON.stringify({ query: DASHBOARD }),
        });
        const text = await res.text();
        let body: GraphQLResult;
        try {
          body = JSON.parse(text) as GraphQLResult;
        } catch {
          body = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
        }
        answers.push({ phase: sentIn, status: res.status, contentType: res.headers.get('content-type') ?? '', body, clientName: c.name });
      }
    });
    const full = (a: Answer) => a.body.errors === undefined && a.body.data?.me?.progress != null;
    const degraded = (a: Answer) => a.body.data?.me?.progress === null && (a.body.errors?.length ?? 0) > 0;
    const seen = async (phaseOf: Answer['phase'], test: (a: Answer) => boolean, count: number) =>
      vi.waitFor(() => expect(answers.filter((a) => a.phase === phaseOf && test(a)).length).toBeGreaterThanOrEqual(count), {
        timeout: 20_000,
        interval: 20,
      });

    try {
      await seen('up', full, CONCURRENCY * 2);
      await platform.stop('progress');
      phase = 'down';
      await seen('down', degraded, CONCURRENCY * 5);
      await platform.restart('progress');
      phase = 'back';
      // The breaker opened while progress was down: after its cool-down a probe finds it back.
      await seen('back', full, CONCURRENCY * 2);
    } finally {
      running = false;
      await Promise.all(load);
    }

    // Every answer, in every phase: 200, GraphQL JSON, and the other subgraphs' parts served.
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.contentType).toMatch(/^application\/(graphql-response\+)?json/);
      const me = a.body.data?.me;
      const expected = healthy.get(a.clientName)!.data.me;
      expect(me?.name).toBe(a.clientName);
      expect(me.upcomingBookings).toEqual(expected.upcomingBookings);
      expect(me.unreadNotificationCount).toBe(expected.unreadNotificationCount);
      expect(me.activePrograms.map((p: { id: string; trainer: unknown }) => [p.id, p.trainer])).toEqual(
        expected.activePrograms.map((p: { id: string; trainer: unknown }) => [p.id, p.trainer]),
      );
      if (full(a)) {
        expect(me.progress).toEqual(expected.progress);
        expect(me.achievements).toEqual(expected.achievements);
        continue;
      }
      // A missing part: progress's fields null, and an error for each, saying where and why.
      for (const field of PROGRESS_FIELDS) expect(me[field]).toBeNull();
      const paths = a.body.errors!.map((e) => e.path);
      for (const field of PROGRESS_FIELDS) expect(paths).toContainEqual(['me', field]);
      for (const e of a.body.errors!) {
        expect(e.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', service: 'progress' });
        expect(e.path?.length).toBeGreaterThan(0);
        expect(JSON.stringify(e)).not.toMatch(/127\.0\.0\.1|ECONN|fetch failed|\n\s+at /);
      }
    }
    // Once stopped (and until started again) no dashboard had progress's part.
    expect(answers.filter((a) => a.phase === 'down' && full(a))).toEqual([]);
    // And with the load over, every client's dashboard is whole again.
    for (const [i, c] of clients.entries()) {
      const res = await platform.query(DASHBOARD, {}, tokens[i]);
      expect(res.errors).toBeUndefined();
      expect(res.data.me.progress).toEqual(healthy.get(c.name)!.data.me.progress);
    }
  });
});
