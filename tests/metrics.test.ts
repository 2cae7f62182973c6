// /metrics after the workflows: every series the Grafana dashboard and the alert rules select
// (metric name and equality matchers) is on some service's /metrics, with label values that
// stay bounded; and what the new metrics say matches what happened.
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { addDays } from '@fitsync/service-kit/clock';
import { testClock } from '@fitsync/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertExpressions, dashboardExpressions, matches, parseExposition, selectorsOf } from './support/deploy-metrics.js';
import { subscribeWs, until, type LiveSubscription } from './support/live.js';
import { operation } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';
import { busSetups, freeSlot as freeSlotOf } from './support/slots.js';

const { clock, today: TODAY } = testClock();
const gym = demoGym(TODAY);
const byEmail = (email: string) => gym.users.find((u) => u.email === email)!;
const client = byEmail(DEMO_LOGINS.client);
const trainer = byEmail(DEMO_LOGINS.trainer);
const gymId = gym.bookings[0].gymId;

/** An hour on `date` when neither the demo client nor the demo trainer has a session. */
const freeSlot = (date: string) => freeSlotOf(gym.bookings, date, [client.id, trainer.id]);

describe.each(busSetups())('/metrics after the workflows on $backend with the $transport bus', ({ backend, transport }) => {
  let platform: Platform;
  let sub: LiveSubscription | undefined;
  let series: ReturnType<typeof parseExposition> = [];

  const scrape = async (subgraphs: readonly string[]) => {
    const origins = [platform.gateway.url, ...subgraphs.map((s) => platform.subgraphs[s as keyof Platform['subgraphs']].url)].map((u) => new URL(u).origin);
    const texts = await Promise.all(origins.map(async (o) => (await fetch(`${o}/metrics`)).text()));
    return texts.flatMap(parseExposition);
  };

  beforeAll(async () => {
    platform = await startPlatform(backend, [gym], { clock, transport });
    const clientToken = await platform.tokenFor(client);
    const trainerToken = await platform.tokenFor(trainer);
    // A live subscriber, a booking (schedule asks users and training; notifications and progress consume its event),
    // a session completed (progress writes the workout-log stub), and the dashboards.
    sub = subscribeWs(platform.gatewayUrl, clientToken, 'subscription { notificationAdded { id type } }');
    const date = addDays(TODAY, 3);
    const booked = await platform.query(
      'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
      {
        i: { clientId: client.id, trainerId: trainer.id, gymId, date, ...freeSlot(date) },
      },
      clientToken,
    );
    expect(booked.errors).toBeUndefined();
    const session = gym.bookings.find((b) => b.trainerId === trainer.id && b.date <= TODAY && b.status === 'CONFIRMED')!;
    expect((await platform.query('mutation($id: ID!) { completeBooking(id: $id) { id } }', { id: session.id }, trainerToken)).errors).toBeUndefined();
    await platform.settle();
    await until(() => sub!.events.length > 0, 10_000, 'the booking notification on the subscription');
    expect((await platform.query(operation('ClientDashboard'), {}, clientToken)).errors).toBeUndefined();
    expect((await platform.query(operation('TrainerDashboard'), {}, trainerToken)).errors).toBeUndefined();
    series = await scrape(Object.keys(platform.subgraphs));
    // progress down: the gateway's calls to it end unavailable (the error-rate alert's numerator).
    await platform.stop('progress');
    const partial = await platform.query(operation('ClientDashboard'), {}, clientToken);
    expect(partial.errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')).toBe(true);
    series.push(...(await scrape([])));
  }, 120_000);

  afterAll(async () => {
    await sub?.client.dispose();
    await platform?.close();
  });

  it('has a series for every selector of the dashboard and the alert rules', () => {
    const missing = [...dashboardExpressions(), ...alertExpressions()].flatMap(({ origin, expr }) =>
      selectorsOf(expr)
        // Regex and negative matchers pick some of the series (5xx statuses, failed outcomes); equality ones must find theirs.
        .map((s) => ({ ...s, matchers: s.matchers.filter((m) => m.op === '=') }))
        .filter((s) => !series.some((x) => matches(s, x)))
        .map((s) => `${origin}: ${s.metric}{${s.matchers.map((m) => `${m.label}="${m.value}"`).join(',')}}`),
    );
    expect(missing).toEqual([]);
  });

  it('times service-to-service calls by pair and outcome, and keeps a breaker state per pair', () => {
    const calls = series.filter((s) => s.name === 'fitsync_service_call_duration_seconds_count');
    const pairs = new Set(calls.map((s) => `${s.labels.caller}->${s.labels.target}:${s.labels.outcome}`));
    for (const pair of ['gateway->users:ok', 'gateway->schedule:ok', 'gateway->progress:unavailable', 'schedule->users:ok', 'schedule->training:ok'])
      expect(pairs).toContain(pair);
    for (const s of calls) expect(['ok', 'errors', 'unavailable', 'open']).toContain(s.labels.outcome);
    const breakers = series.filter((s) => s.name === 'fitsync_service_breaker_state');
    expect(breakers.some((s) => s.labels.caller === 'gateway' && s.labels.target === 'notifications')).toBe(true);
  });

  it('measures publish-to-handled by channel and consumer, with the lag of each consumer by channel', () => {
    const handled = series.filter((s) => s.name === 'fitsync_events_publish_to_handled_seconds_count');
    const pairs = new Set(handled.map((s) => `${s.labels.channel}->${s.labels.consumer}`));
    for (const pair of ['booking.created->notifications', 'booking.completed->progress', 'booking.completed->notifications']) expect(pairs).toContain(pair);
    const lag = series.filter((s) => s.name === 'fitsync_events_consumer_lag' && s.labels.consumer === 'notifications');
    expect(lag.some((s) => s.labels.channel === 'booking.created')).toBe(true);
    // Every channel a consumer reads has its failure and dead-letter series from the start.
    expect(
      series.some((s) => s.name === 'fitsync_events_dead_lettered_total' && s.labels.service === 'notifications' && s.labels.channel === 'booking.created'),
    ).toBe(true);
  });

  it('counts live subscribers by field', () => {
    const live = series.filter((s) => s.name === 'fitsync_live_subscribers');
    expect(live.some((s) => s.labels.field === 'notificationAdded')).toBe(true);
  });

  it('keeps label values bounded: no ids, no correlation ids, no free text', () => {
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-/i;
    for (const s of series.filter((x) => x.name.startsWith('fitsync_')))
      for (const [label, value] of Object.entries(s.labels)) expect(uuid.test(value), `${s.name}{${label}="${value}"}`).toBe(false);
  });
});
