// Issue 15: "A field that is neither declared nor served upstream is refused at composition
// or check time, not at subscribe time." A team adds Subscription.bookingReminder to schedule
// without @liveTopic. Composition refuses it until supergraph.yaml says schedule serves its
// own subscriptions (`subscriptions: ws|sse`); then schema:publish tries the running subgraph
// the way the gateway will subscribe (graphql-ws handshake at the ws:// URL, or a graphql-sse
// request) with the service credential, and refuses, unless forced, a subgraph that does not
// serve subscriptions there. The subgraphs here are Apollo Server + @apollo/subgraph serving
// the candidate schema, one with a graphql-ws server, one with a graphql-sse handler, one
// with neither, each on port 0.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import { SchemaHistory, publishSubgraph, type SubscriptionTransport } from '@fitsync/composition';
import { createServiceCredentials, createTokenVerifier, SERVICE_TOKEN_HEADER } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET, testClock } from '@fitsync/service-kit/testing';
import express from 'express';
import { parse } from 'graphql';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/express';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { REPO, copyGraph, editedSchedule, type GraphCopy } from '../packages/composition/src/__tests__/fixture.js';

const run = promisify(execFile);
const { clock } = testClock();

const FIELD = '  "Reminders of the caller\'s bookings."\n  bookingReminder: BookingEvent!\n';
const ADD_REMINDER: [string, string] = ['type Subscription {\n', `type Subscription {\n${FIELD}`];

interface TestSubgraph {
  url: string;
  /** connection_init payloads and SSE requests it accepted, with the service that sent them. */
  accepted: string[];
  close(): Promise<void>;
}

/** The candidate schedule schema, served by a subgraph that serves subscriptions over `transport`, or not at all. */
async function startSchedule(sdl: string, transport: SubscriptionTransport | 'none'): Promise<TestSubgraph> {
  const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET);
  const service = async (token: unknown) => (typeof token === 'string' ? verifier.verifyService(token).catch(() => undefined) : undefined);
  const accepted: string[] = [];
  const schema = buildSubgraphSchema({
    typeDefs: parse(sdl),
    resolvers: {
      Subscription: {
        bookingReminder: {
          // No event ever comes: a publish only shakes hands.
          subscribe: async function* () {},
        },
      },
    },
  });
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  const app = express();
  if (transport === 'sse') {
    const sse = createSseHandler({ schema });
    app.use('/graphql', async (req, res, next) => {
      if (!req.headers.accept?.includes('text/event-stream')) return next();
      const subject = await service(req.headers[SERVICE_TOKEN_HEADER]);
      if (!subject) return void res.status(401).json({ errors: [{ message: 'service credential required' }] });
      accepted.push(subject);
      sse(req, res).catch(next);
    });
  }
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const server: Server = createServer(app);
  let ws: { dispose(): Promise<void> | void } | undefined;
  if (transport === 'ws') {
    const wss = new WebSocketServer({ server, path: '/graphql' });
    ws = useServer(
      {
        schema,
        onConnect: async (ctx) => {
          const subject = await service(ctx.connectionParams?.[SERVICE_TOKEN_HEADER]);
          if (subject) accepted.push(subject);
          return subject !== undefined;
        },
      },
      wss,
    );
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    accepted,
    async close() {
      await ws?.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}

/** `npm run schema:publish` on the copy, as a team runs it, with the running subgraph at SCHEDULE_URL. */
async function publishCli(g: GraphCopy, args: string[], env: Record<string, string>) {
  const f = g.files;
  const argv = ['scripts/schema-publish.ts', ...args];
  argv.push('--config', f.config, '--supergraph', f.supergraph, '--api', f.apiSchema!, '--operations', f.operations, '--history', f.history);
  try {
    const { stdout, stderr } = await run(join(REPO, 'node_modules/.bin/tsx'), argv, {
      cwd: REPO,
      env: { ...process.env, REDIS_URL: '', SUPERGRAPH_REDIS_KEY: '', SERVICE_SECRET: TEST_SERVICE_SECRET, SCHEMA_AUTHOR: 'test', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('schema:publish of a Subscription field the subgraph serves itself', () => {
  let sdl: string;
  let plain: TestSubgraph;
  let overWs: TestSubgraph;
  let overSse: TestSubgraph;
  let g: GraphCopy;
  const credentials = createServiceCredentials('schema-publish', TEST_SERVICE_SECRET);
  const live = (url: string, subscriptions?: SubscriptionTransport) => ({ url, serviceToken: () => credentials.token(), subscriptions });

  beforeAll(async () => {
    sdl = await editedSchedule(ADD_REMINDER);
    [plain, overWs, overSse] = await Promise.all([startSchedule(sdl, 'none'), startSchedule(sdl, 'ws'), startSchedule(sdl, 'sse')]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), overWs?.close(), overSse?.close()]);
  });
  beforeEach(async () => {
    g = await copyGraph();
  });
  afterEach(() => g.dispose());

  /** The copy's supergraph.yaml with `subscriptions: <transport>` under schedule. */
  async function declareServed(transport: SubscriptionTransport) {
    const config = await g.read(g.files.config);
    const line = '      file: ./subgraphs/schedule/schema.graphql\n';
    expect(config).toContain(line);
    await writeFile(g.files.config, config.replace(line, `${line}    subscriptions: ${transport}\n`));
  }

  it('refuses it at composition, even with --force, while the config does not say schedule serves subscriptions', async () => {
    const candidate = await g.candidate('schedule.graphql', sdl);
    const cli = await publishCli(g, ['schedule', candidate, '--force'], { SCHEDULE_URL: overWs.url });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('LIVE_SUBSCRIPTION_UNSERVED: Subscription.bookingReminder: nothing feeds it');
    expect(cli.stderr).toContain('Not published: the candidate schema does not compose');
    expect(await g.read(g.scheduleFile)).not.toContain('bookingReminder');
    expect(await new SchemaHistory(g.files.history).entries()).toEqual([]);
  });

  it('refuses it, unless forced, when the running subgraph does not serve subscriptions over graphql-ws, naming the field, the URL and what was tried', async () => {
    await declareServed('ws');
    const candidate = await g.candidate('schedule.graphql', sdl);
    const before = await g.read(g.files.supergraph);
    const wsUrl = plain.url.replace('http:', 'ws:');

    const cli = await publishCli(g, ['schedule', candidate], { SCHEDULE_URL: plain.url });
    expect(cli.code).toBe(3);
    // Its SDL is served (deployed first), but not its subscriptions.
    expect(cli.stderr).toContain(`✔ schedule at ${plain.url} already serves every field of the candidate schema`);
    expect(cli.stderr).toContain(`✖ schedule does not serve subscriptions over graphql-ws at ${wsUrl}: `);
    expect(cli.stderr).toContain('HTTP 400 to the WebSocket upgrade (nothing accepts WebSockets there)');
    expect(cli.stderr).toContain('Subscription.bookingReminder has no @liveTopic, so the gateway would subscribe there, and every subscribe would fail');
    expect(cli.stderr).toContain(
      'tried: a WebSocket with subprotocol graphql-transport-ws, connection_init with the service credential, expecting connection_ack',
    );
    expect(cli.stderr).toMatch(/Not published: schedule does not serve Subscription\.bookingReminder over graphql-ws at ws:\/\/127\.0\.0\.1:\d+\/graphql \(/);
    expect(await g.read(g.files.supergraph)).toBe(before);
    expect(await g.read(g.scheduleFile)).not.toContain('bookingReminder');

    // A subgraph that speaks graphql-ws but refuses the credential is not serving the gateway either.
    const wrong = await publishCli(g, ['schedule', candidate, '--json'], { SCHEDULE_URL: overWs.url, SERVICE_SECRET: 'not-the-deployment-secret-0123' });
    expect(wrong.code).toBe(3);
    expect(JSON.parse(wrong.stdout)).toMatchObject({
      outcome: 'refused',
      live: { subscriptions: { fields: ['Subscription.bookingReminder'], transport: 'ws', served: false, error: expect.stringContaining('4403') } },
    });

    const forced = await publishSubgraph(g.files, {
      subgraph: 'schedule',
      schemaFile: candidate,
      force: true,
      author: 'test',
      now: clock(),
      live: live(plain.url),
    });
    expect(forced.outcome).toBe('published');
    if (forced.outcome !== 'published') return;
    expect(forced.entry).toMatchObject({ forced: true, live: { status: 'served', subscriptions: { served: false, url: wsUrl } } });
  });

  it('publishes it when the running subgraph acknowledges graphql-ws with the service credential', async () => {
    await declareServed('ws');
    const candidate = await g.candidate('schedule.graphql', sdl);
    const acceptedBefore = overWs.accepted.length;
    const result = await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: candidate, author: 'test', now: clock(), live: live(overWs.url) });
    expect(result.outcome).toBe('published');
    expect(result.live.subscriptions).toEqual({
      fields: ['Subscription.bookingReminder'],
      transport: 'ws',
      url: overWs.url.replace('http:', 'ws:'),
      tried: expect.stringContaining('connection_init'),
      served: true,
    });
    expect(overWs.accepted.slice(acceptedBefore)).toEqual(['schema-publish']);
    expect(await g.read(g.scheduleFile)).toContain('bookingReminder: BookingEvent!');
  });

  it('tries SSE where the config says sse, and <NAME>_SUBSCRIPTIONS (the gateway’s variable) over the config', async () => {
    await declareServed('sse');
    const candidate = await g.candidate('schedule.graphql', sdl);
    // The config says sse: the graphql-ws subgraph does not answer an event stream.
    const overWsOnly = await publishSubgraph(g.files, { subgraph: 'schedule', schemaFile: candidate, author: 'test', now: clock(), live: live(overWs.url) });
    expect(overWsOnly).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('does not serve Subscription.bookingReminder over SSE') });
    expect(overWsOnly.live.subscriptions).toMatchObject({
      transport: 'sse',
      url: overWs.url,
      served: false,
      error: expect.stringContaining('HTTP 406: it does not answer Accept: text/event-stream'),
    });

    // SCHEDULE_SUBSCRIPTIONS=ws, as the gateway would be configured, wins over the config's sse.
    const byVariable = await publishCli(g, ['schedule', candidate, '--json'], { SCHEDULE_URL: overSse.url, SCHEDULE_SUBSCRIPTIONS: 'ws' });
    expect(byVariable.code).toBe(3);
    expect(JSON.parse(byVariable.stdout).live).toMatchObject({ status: 'served', subscriptions: { transport: 'ws', served: false } });

    const acceptedBefore = overSse.accepted.length;
    const cli = await publishCli(g, ['schedule', candidate], { SCHEDULE_URL: overSse.url });
    expect(cli.stdout).toContain(`✔ schedule serves subscriptions over SSE (graphql-sse) at ${overSse.url}, for Subscription.bookingReminder`);
    expect(cli.code).toBe(0);
    expect(overSse.accepted.slice(acceptedBefore)).toEqual(['schema-publish']);
    expect(await g.read(g.scheduleFile)).toContain('bookingReminder: BookingEvent!');
  });
});
