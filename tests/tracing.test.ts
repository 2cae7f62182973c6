// Traces end to end, in real processes: the test platform runs every service in one process,
// where one tracer provider would name every span after one service and the instrumentations
// would patch once for all of them. So this test runs what operators run: `npm start` (six
// processes, each starting its own SDK from the OTEL_* variables it passes through) and, for
// the gateway's own settings, the gateway process alone. A real OTLP/HTTP receiver in the test
// decodes what their exporters send.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { compose, loadSupergraphConfig } from '@fitsync/composition';
import { DEMO_LOGINS, DEMO_PASSWORD } from '@fitsync/demo-data';
import { dropPostgresSchema } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET, callSubgraph, redisUrlForTests, storageBackends } from '@fitsync/service-kit/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { operation } from './support/operations.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp.js';
import { ROOT, TSX_LOADER, spawnService, type ServiceProcess } from './support/service-process.js';

const SERVICES = ['gateway', 'users', 'training', 'schedule', 'progress', 'notifications'] as const;
/** Spans leave each process in batches at most this far apart (the standard OTEL_BSP_SCHEDULE_DELAY). */
const EXPORT_DELAY = { OTEL_BSP_SCHEDULE_DELAY: '100' };

type Result = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Result> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as Result;
}

const newTraceparent = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
const correlationId = () => `trace-test-${randomBytes(6).toString('hex')}`;

/** The gateway's HTTP server span of the request with this correlation id (recorded on it). */
const serverSpanOf = (spans: ReceivedSpan[], id: string) => spans.find((s) => s.service === 'fitsync-gateway' && s.attributes['fitsync.correlation_id'] === id);

function servicesIn(spans: ReceivedSpan[], traceId: string) {
  return new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.service));
}

describe('tracing across npm start (OTLP http/json)', () => {
  let dir: string;
  let receiver: OtlpReceiver;
  let proc: ChildProcess;
  let output = '';
  let gateway: string;
  let token: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    dir = await mkdtemp(join(tmpdir(), 'fitsync-tracing-'));
    const composed = compose(await loadSupergraphConfig(join(ROOT, 'supergraph.yaml')));
    if (!composed.ok) throw new Error('supergraph.yaml does not compose');
    await writeFile(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      DATA_DIR: 'memory://',
      SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      ...EXPORT_DELAY,
    };
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'DB_SCHEMA', 'NODE_ENV', 'SEED_DEMO', 'OTEL_SERVICE_NAME', 'OTEL_TRUST_INCOMING_TRACEPARENT']) delete env[k];
    for (const s of SERVICES) {
      env[`${s.toUpperCase()}_PORT`] = '0';
      delete env[`${s.toUpperCase()}_URL`];
    }
    proc = spawn(process.execPath, ['--import', TSX_LOADER, 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    await vi.waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`npm start exited with ${proc.exitCode}:\n${output}`);
        if (!output.includes('FitSync Graph is ready in')) throw new Error(`not ready:\n${output}`);
      },
      { timeout: 150_000, interval: 250 },
    );
    gateway = output.match(/^\s+gateway\s+(http:\/\/\S+\/graphql)\s/m)![1]!;
    const login = await post(gateway, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
      e: DEMO_LOGINS.client,
      p: DEMO_PASSWORD,
    });
    token = login.data.login.token;
  }, 180_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await exited;
    }
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('createBooking is one trace: the gateway, its plan and fetches, three subgraphs and their SQL; the notifications consumer links to it', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const me = await post(gateway, '{ me { id activePrograms { trainer { id } } upcomingBookings { gymId date } } }', {}, auth);
    const { id: clientId, activePrograms, upcomingBookings } = me.data.me;
    // Four weeks after the last booking the demo gym has (its days come from the services' clock, not this test's).
    const last = new Date(`${upcomingBookings.at(-1).date}T12:00:00Z`);
    const date = new Date(last.getTime() + 28 * 86_400_000).toISOString().slice(0, 10);
    const id = correlationId();
    const created = await post(
      gateway,
      'mutation($i: CreateBookingInput!) { createBooking(input: $i) { id } }',
      { i: { clientId, trainerId: activePrograms[0].trainer.id, gymId: upcomingBookings[0].gymId, date, startTime: '14:00', endTime: '15:00' } },
      { ...auth, 'x-correlation-id': id },
    );
    expect(created.errors).toBeUndefined();

    // The notifications consumer's span for this booking's event, linked to the request's trace.
    let traceId = '';
    await vi.waitFor(
      () => {
        const server = serverSpanOf(receiver.spans, id);
        expect(server, 'the gateway span of the request').toBeDefined();
        traceId = server!.traceId;
        const consumer = receiver.spans.find(
          (s) => s.service === 'fitsync-notifications' && s.name === 'booking.created process' && s.links.some((l) => l.traceId === traceId),
        );
        expect(consumer, 'the notifications consumer, linked').toBeDefined();
        const consumerSpans = receiver.spans.filter((s) => s.traceId === consumer!.traceId);
        // The notification written, in the consumer's trace, and the live message it sent, linked to the request too.
        expect(
          consumerSpans.some((s) => s.name.startsWith('pglite.query:INSERT') && String(s.attributes['db.query.text']).includes('INSERT INTO notifications')),
        ).toBe(true);
        expect(consumerSpans.some((s) => s.name === 'live publish' && s.links.some((l) => l.traceId === traceId))).toBe(true);
        expect(consumer!.attributes['fitsync.correlation_id']).toBe(id);
        // The outbox relay's publish of the event is a step of the request's trace. Each process
        // exports its spans in its own batches: schedule's may come after the consumer's.
        expect(
          receiver.spans.some((s) => s.traceId === traceId && s.service === 'fitsync-schedule' && s.name === 'booking.created publish'),
          "the relay's publish, in the request's trace",
        ).toBe(true);
        // schedule owns the mutation and validates through users and training (each exports on its own).
        const services = servicesIn(receiver.spans, traceId);
        for (const name of ['fitsync-gateway', 'fitsync-schedule', 'fitsync-users', 'fitsync-training']) expect(services, name).toContain(name);
      },
      { timeout: 30_000, interval: 100 },
    );

    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const names = trace.filter((s) => s.service === 'fitsync-gateway').map((s) => s.name);
    for (const step of ['gateway.request', 'gateway.plan', 'gateway.fetch']) expect(names).toContain(step);
    // Each span's parent is in the trace (one tree), but for the root at the gateway.
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).map((s) => s.service)).toEqual(['fitsync-gateway']);
    // The booking's INSERT, as statement text without its values.
    const insert = trace.find((s) => s.service === 'fitsync-schedule' && String(s.attributes['db.query.text']).startsWith('INSERT INTO bookings'));
    expect(insert).toBeDefined();
    expect(String(insert!.attributes['db.query.text'])).toContain('$1');
    expect(String(insert!.attributes['db.query.text'])).not.toContain(date);
  }, 60_000);

  it('ClientDashboard is one trace across the gateway and every subgraph it reads', async () => {
    const id = correlationId();
    const result = await post(gateway, operation('ClientDashboard'), {}, { authorization: `Bearer ${token}`, 'x-correlation-id': id });
    expect(result.errors).toBeUndefined();
    await vi.waitFor(
      () => {
        const server = serverSpanOf(receiver.spans, id);
        expect(server).toBeDefined();
        expect([...servicesIn(receiver.spans, server!.traceId)].sort()).toEqual(SERVICES.map((s) => `fitsync-${s}`).sort());
      },
      { timeout: 30_000, interval: 100 },
    );
  }, 60_000);

  it("does not continue a client's traceparent at the gateway unless configured (it starts a new trace)", async () => {
    const id = correlationId();
    const given = newTraceparent();
    expect((await post(gateway, '{ __typename }', {}, { traceparent: given, 'x-correlation-id': id })).data).toEqual({ __typename: 'Query' });
    await vi.waitFor(() => expect(serverSpanOf(receiver.spans, id)).toBeDefined(), { timeout: 30_000, interval: 100 });
    const server = serverSpanOf(receiver.spans, id)!;
    expect(server.traceId).not.toBe(given.split('-')[1]);
    expect(server.parentSpanId).toBeUndefined();
    expect(receiver.spans.some((s) => s.traceId === given.split('-')[1])).toBe(false);
  }, 60_000);
});

describe('the gateway alone: http/protobuf, wrong values, a trusted traceparent, an endpoint that hangs', () => {
  let receiver: OtlpReceiver;
  let gateway: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    // Export requests are read (and decoded) but never answered.
    receiver = await startOtlpReceiver({ hold: true });
    gateway = await spawnService(
      'gateway/src/index.ts',
      {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        JWT_SECRET: TEST_JWT_SECRET,
        SERVICE_SECRET: TEST_SERVICE_SECRET,
        LOG_LEVEL: 'warn',
        APOLLO_TELEMETRY_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_TRUST_INCOMING_TRACEPARENT: 'true',
        // Not a sampler: named in a warning, and the default sampler is used.
        OTEL_TRACES_SAMPLER: 'sometimes',
        ...EXPORT_DELAY,
      },
      { captureOutput: true },
    );
    url = `http://127.0.0.1:${gateway.port}/graphql`;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.close();
  });

  it('starts with a wrong OTEL_TRACES_SAMPLER, saying so, and exports protobuf that continues a trusted traceparent', async () => {
    await vi.waitFor(() => expect(gateway.output()).toContain('OTEL_TRACES_SAMPLER=\\"sometimes\\" is not one of'), { timeout: 10_000, interval: 50 });
    const given = newTraceparent();
    const id = correlationId();
    expect((await post(url, '{ __typename }', {}, { traceparent: given, 'x-correlation-id': id })).data).toEqual({ __typename: 'Query' });
    await vi.waitFor(() => expect(serverSpanOf(receiver.spans, id)).toBeDefined(), { timeout: 30_000, interval: 100 });
    expect(receiver.contentTypes.every((t) => t === 'application/x-protobuf')).toBe(true);
    const server = serverSpanOf(receiver.spans, id)!;
    expect(server.traceId).toBe(given.split('-')[1]);
    expect(server.parentSpanId).toBe(given.split('-')[2]);
    expect(receiver.spans.filter((s) => s.traceId === server.traceId).map((s) => s.name)).toContain('gateway.request');
  }, 60_000);

  it('answers every request while its exports hang unanswered', async () => {
    // The receiver holds the exports above: the exporter is waiting on them now.
    expect(receiver.held()).toBeGreaterThan(0);
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(url, '{ __typename }')));
    expect(answers.every((a) => a.data?.__typename === 'Query')).toBe(true);
    expect(receiver.held()).toBeGreaterThan(0);
  }, 60_000);
});

describe('tracing off', () => {
  it('loads no OpenTelemetry SDK, exporter or instrumentation when no endpoint is set', async () => {
    const probe = `
      import { createRequire } from 'node:module';
      const { startTelemetry } = await import('@fitsync/service-kit/telemetry');
      await startTelemetry('users');
      await import('@fitsync/service-kit');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/@opentelemetry/'));
      console.log(JSON.stringify([...new Set(loaded.map((k) => k.split('/@opentelemetry/')[1].split('/')[0]))].sort()));`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const child = spawn(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '--eval', probe], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    // The API (prom-client's dependency too) and what the events package uses to read a traceparent: no SDK.
    expect(JSON.parse(out.trim())).toEqual(['api', 'core', 'semantic-conventions']);
  }, 60_000);
});

// On Postgres and Redis (the tests above run PGlite and the in-process bus): the pg instrumentation's
// statements and the ioredis instrumentation's commands in a subgraph's trace. The users subgraph
// alone, on a schema and an events prefix of this test's own, continuing the caller's traceparent
// as every subgraph does (they answer only signed FitSync services).
const onServers = storageBackends().includes('postgres') && redisUrlForTests() ? ['postgres and redis'] : [];
describe.each(onServers)('tracing on %s', () => {
  const schema = `t_trace_${randomBytes(4).toString('hex')}`;
  const prefix = `test-${schema}`;
  let receiver: OtlpReceiver;
  let users: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    users = await spawnService('subgraphs/users/src/index.ts', {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      USERS_PORT: '0',
      DATABASE_URL: process.env.DATABASE_URL,
      DB_SCHEMA: schema,
      REDIS_URL: redisUrlForTests(),
      EVENTS_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_SECRET: TEST_SERVICE_SECRET,
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      ...EXPORT_DELAY,
    });
    url = `http://127.0.0.1:${users.port}/graphql`;
  }, 120_000);

  afterAll(async () => {
    await users?.stop();
    await receiver?.close();
    await dropPostgresSchema(process.env.DATABASE_URL!, schema);
    const redis = new Redis(redisUrlForTests()!);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('records the statements of a mutation (pg) and the XADD of its event (ioredis) in the caller’s trace', async () => {
    const login = await callSubgraph(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
      e: DEMO_LOGINS.client,
      p: DEMO_PASSWORD,
    });
    const token = (login.body.data as { login: { token: string } }).login.token;
    const given = newTraceparent();
    const traceId = given.split('-')[1];
    const changed = await callSubgraph(
      url,
      'mutation { updateProfile(input: { phone: "+44 20 7946 0000" }) { id } }',
      {},
      { token, headers: { traceparent: given } },
    );
    expect(changed.body.errors).toBeUndefined();
    await vi.waitFor(
      () => {
        const trace = receiver.spans.filter((s) => s.traceId === traceId);
        const update = trace.find((s) => s.name.startsWith('pg.query:UPDATE'));
        expect(update, 'the UPDATE through pg').toBeDefined();
        expect(String(update!.attributes['db.statement'] ?? update!.attributes['db.query.text'])).not.toContain('7946');
        expect(trace.some((s) => s.name === 'user.updated publish')).toBe(true);
        expect(
          trace.some((s) => (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'redis' && /xadd/i.test(s.name)),
          'the XADD through ioredis',
        ).toBe(true);
      },
      { timeout: 30_000, interval: 100 },
    );
  }, 60_000);
});
