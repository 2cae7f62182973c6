// Issue 15: a subgraph that serves its own subscriptions (Apollo Server + @apollo/subgraph,
// with a graphql-ws server and a graphql-sse handler of its own, written here) composed
// with FitSync's five: the gateway subscribes to it over graphql-ws by default, over SSE
// when configured, with the caller's identity and its service credential; each event comes
// with the rest of the client's selection (a User's name from users, through an entity
// reference); identical client subscriptions share one upstream subscription; an upstream
// that ends or fails gives the client a coded error and `complete`.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { expressMiddleware } from '@as-integrations/express5';
import { compose, formatProblems } from '@fitsync/composition';
import { DEMO_LOGINS, demoGym } from '@fitsync/demo-data';
import { DEFAULT_MAX_UPSTREAM_HANDSHAKES, type RunningGateway } from '@fitsync/gateway';
import { CORRELATION_HEADER, createTokenVerifier, SERVICE_TOKEN_HEADER } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET, testClock } from '@fitsync/service-kit/testing';
import express from 'express';
import { GraphQLError, parse } from 'graphql';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/express';
import { useServer } from 'graphql-ws/use/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { subscribeSse, subscribeWs, until, type LiveSubscription, type SseSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;
/** Other callers: each one's upstream subscriptions go over a connection of its own. */
const members = gym.users.filter((u) => u.role === 'CLIENT' && u.id !== client.id);

/** A team's subgraph: its Subscription field has no @liveTopic, it serves the subscription itself. */
const ANNOUNCEMENTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

  type User @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Announcement {
    text: String!
    author: User!
  }

  type Query {
    announcementChannels: [String!]!
  }

  type Subscription {
    announcement(channel: String!): Announcement!
  }
`;

/** The token the test subgraph lets read its staff channel (set once the platform issues it). */
let staffToken = '';

const QUERY = 'subscription Announcements($channel: String!) { announcement(channel: $channel) { text author { id name } } }';

type Announcement = { text: string; author_id: string };

/** One subscription the subgraph served: how it was reached and with what identity. */
interface Served {
  transport: 'ws' | 'sse';
  channel: string;
  authorization?: string;
  service: string;
  correlationId?: string;
}

/** One WebSocket the gateway opened to the subgraph, as whom, and whether it is still open. */
interface Connection {
  authorization?: string;
  open: boolean;
}

interface Announcements {
  url: string;
  /** Every WebSocket connection the gateway made (acknowledged), in order. */
  connections: Connection[];
  /** Connections being opened now (upgraded, connection_init not yet acknowledged), and the most there were at once. */
  handshakes: { now: number; max: number };
  /** Closes this caller's next `times` connections (default 1) as graphql-ws does when connection_init comes too late (4408). */
  lateInitOnce(authorization: string, times?: number): void;
  /** Connections closed with 4408 so far. */
  lateInits(): number;
  /** Every subscription the subgraph started, and how many are open now. */
  served: Served[];
  open(): number;
  publish(channel: string, a: Announcement): void;
  /** Ends the channel's subscriptions: the subgraph completes them. */
  end(channel: string): void;
  /** Drops every WebSocket the subgraph holds (a crash, a network failure). */
  dropSockets(): void;
  close(): Promise<void>;
}

/** An async iterator over a channel's announcements that counts itself open until it returns or the channel ends. */
function channelIterator(hub: EventEmitter, channel: string, onClose: () => void): AsyncIterableIterator<Announcement> {
  const queue: Announcement[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const onAnnouncement = (a: Announcement) => {
    queue.push(a);
    wake?.();
  };
  const finish = () => {
    if (done) return;
    done = true;
    hub.off(`announce:${channel}`, onAnnouncement);
    hub.off(`end:${channel}`, finish);
    onClose();
    wake?.();
  };
  hub.on(`announce:${channel}`, onAnnouncement);
  hub.on(`end:${channel}`, finish);
  return {
    async next() {
      while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      if (queue.length > 0) return { done: false, value: queue.shift()! };
      return { done: true, value: undefined };
    },
    async return() {
      finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function startAnnouncements(): Promise<Announcements> {
  const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET);
  const hub = new EventEmitter();
  hub.setMaxListeners(0);
  const served: Served[] = [];
  const connections: Connection[] = [];
  const handshakes = { now: 0, max: 0 };
  const late = new Map<string, number>();
  let lateInits = 0;
  let open = 0;
  type Context = Omit<Served, 'channel'>;
  const schema = buildSubgraphSchema({
    typeDefs: parse(ANNOUNCEMENTS_SDL),
    resolvers: {
      Query: { announcementChannels: () => ['gym'] },
      Subscription: {
        announcement: {
          subscribe: (_: unknown, args: { channel: string }, ctx: unknown) => {
            served.push({ ...(ctx as Context), channel: args.channel });
            // The subgraph's own access check, with the identity the gateway forwarded.
            if (args.channel === 'staff' && (ctx as Context).authorization !== `Bearer ${staffToken}`) {
              throw new GraphQLError('Only staff read the staff channel', { extensions: { code: 'FORBIDDEN' } });
            }
            open++;
            return channelIterator(hub, args.channel, () => open--);
          },
          resolve: (a: Announcement) => ({ text: a.text, author: { id: a.author_id } }),
        },
      },
    },
  });
  // Only the gateway (or another FitSync service) may subscribe: its signed credential is required.
  const service = async (token: unknown) => (typeof token === 'string' ? verifier.verifyService(token).catch(() => undefined) : undefined);
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  const sse = createSseHandler({
    schema,
    context: async (req) => {
      const headers = req.raw.headers;
      return {
        transport: 'sse',
        authorization: headers.authorization,
        service: (await service(headers[SERVICE_TOKEN_HEADER]))!,
        correlationId: headers[CORRELATION_HEADER] as string | undefined,
      } satisfies Context;
    },
  });
  const app = express();
  app.use('/graphql', async (req, res, next) => {
    if (!req.headers.accept?.includes('text/event-stream')) return next();
    if (!(await service(req.headers[SERVICE_TOKEN_HEADER]))) return void res.status(401).json({ errors: [{ message: 'service credential required' }] });
    sse(req, res).catch(next);
  });
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const server: Server = createServer(app);
  const wss = new WebSocketServer({ server, path: '/graphql' });
  // Registered before useServer's own listener: counted from the upgrade to the connection's acknowledgement (or close).
  const handshaking = new WeakSet<object>();
  const handshakeOver = (socket: object) => {
    if (handshaking.delete(socket)) handshakes.now--;
  };
  wss.on('connection', (socket) => {
    handshaking.add(socket);
    handshakes.max = Math.max(handshakes.max, ++handshakes.now);
    socket.once('close', () => handshakeOver(socket));
  });
  const ws = useServer<Record<string, unknown>, { served: Context; connection: Connection; socket: import('ws').WebSocket }>(
    {
      schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const lateLeft = typeof params.authorization === 'string' ? (late.get(params.authorization) ?? 0) : 0;
        if (lateLeft > 0) {
          if (lateLeft === 1) late.delete(params.authorization as string);
          else late.set(params.authorization as string, lateLeft - 1);
          lateInits++;
          ctx.extra.socket.close(4408, 'Connection initialisation timeout');
          return false;
        }
        const subject = await service(params[SERVICE_TOKEN_HEADER]);
        handshakeOver(ctx.extra.socket);
        if (!subject) return false;
        ctx.extra.served = {
          transport: 'ws',
          authorization: params.authorization as string | undefined,
          service: subject,
          correlationId: params[CORRELATION_HEADER] as string | undefined,
        };
        ctx.extra.connection = { authorization: params.authorization as string | undefined, open: true };
        connections.push(ctx.extra.connection);
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.connection) ctx.extra.connection.open = false;
      },
      context: (ctx) => ctx.extra.served,
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    served,
    connections,
    handshakes,
    lateInitOnce: (authorization, times = 1) => void late.set(authorization, times),
    lateInits: () => lateInits,
    open: () => open,
    publish: (channel, a) => void hub.emit(`announce:${channel}`, a),
    end: (channel) => void hub.emit(`end:${channel}`),
    dropSockets: () => wss.clients.forEach((socket) => socket.terminate()),
    async close() {
      await ws.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}

describe('upstream subscriptions: a subgraph that serves its own', () => {
  let platform: Platform;
  let announcements: Announcements;
  let gateway: RunningGateway;
  let sseGateway: RunningGateway;
  let dir: string;
  let clientToken: string;
  let trainerToken: string;
  const ws: LiveSubscription[] = [];
  const sse: SseSubscription[] = [];
  const author = { id: trainer.id, name: trainer.name };
  const subscribe = (token: string, channel: string, at = gateway) => {
    const sub = subscribeWs(at.url, token, QUERY, undefined, { variables: { channel } });
    ws.push(sub);
    return sub;
  };
  /** Publishes until the first of `subs` hears it: the upstream subscription is open end to end. */
  const publishUntilHeard = async (channel: string, subs: { events: unknown[] }[], text = 'hello') => {
    const before = subs.map((s) => s.events.length);
    announcements.publish(channel, { text, author_id: trainer.id });
    await until(() => subs.every((s, i) => s.events.length > before[i]), 5_000, `every subscriber of ${channel} to hear "${text}"`);
  };

  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock });
    announcements = await startAnnouncements();
    dir = await mkdtemp(join(tmpdir(), 'fitsync-live-upstream-'));
    // `subscriptions: 'ws'` is supergraph.yaml's entry saying the team serves its own (else LIVE_SUBSCRIPTION_UNSERVED).
    const composed = compose([...platform.sources, { name: 'announcements', url: announcements.url, sdl: ANNOUNCEMENTS_SDL, subscriptions: 'ws' }]);
    if (!composed.ok) throw new Error(formatProblems(composed.problems));
    await writeFile(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
    // The routing URL in the supergraph is all the gateway is told about the new subgraph.
    gateway = await platform.startGateway({ supergraphSdl: undefined }, { SUPERGRAPH_PATH: join(dir, 'supergraph.graphql') });
    sseGateway = await platform.startGateway({ supergraphSdl: composed.supergraphSdl }, { ANNOUNCEMENTS_SUBSCRIPTIONS: 'sse' });
    [clientToken, trainerToken] = await Promise.all([platform.tokenFor(client), platform.tokenFor(trainer)]);
    staffToken = trainerToken;
  });
  afterAll(async () => {
    await Promise.all(ws.map((s) => s.dispose()));
    for (const s of sse) s.close();
    await platform?.close();
    await announcements?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers events over graphql-ws and SSE on /graphql, with a FitSync field resolved through an entity reference, and forwards who asks', async () => {
    const overWs = subscribe(clientToken, 'lobby');
    const overSse = subscribeSse(gateway.url, clientToken, QUERY, { variables: { channel: 'lobby' } });
    sse.push(overSse);
    await until(() => gateway.live!.active() === 2, 5_000, 'two client subscriptions');
    // The two client subscriptions are identical (document, variables, caller): one upstream.
    await until(() => announcements.open() === 1, 5_000, 'the upstream subscription');
    await publishUntilHeard('lobby', [overWs, overSse], 'doors open at six');
    expect(overWs.events).toEqual([{ data: { announcement: { text: 'doors open at six', author } } }]);
    expect(overSse.events).toEqual(overWs.events);

    const lobby = announcements.served.filter((s) => s.channel === 'lobby');
    expect(lobby).toHaveLength(1);
    expect(lobby[0]).toMatchObject({ transport: 'ws', authorization: `Bearer ${clientToken}`, service: 'gateway' });
    expect(lobby[0].correlationId).toMatch(/\S/);
    expect(gateway.live!.upstreamActive()).toBe(1);
    expect(overWs.completed || overSse.completed).toBe(false);
  });

  it('makes one upstream subscription for ten identical client subscriptions, another for another caller, and closes it when the last client leaves', async () => {
    const startedBefore = announcements.served.length;
    const ten = Array.from({ length: 10 }, () => subscribe(clientToken, 'ten'));
    const other = subscribe(trainerToken, 'ten');
    await until(() => announcements.served.length >= startedBefore + 2 && gateway.live!.active() >= 11, 5_000, 'the subscriptions');
    await publishUntilHeard('ten', [...ten, other], 'class moved to room 2');
    const started = announcements.served.slice(startedBefore).filter((s) => s.channel === 'ten');
    expect(started.map((s) => s.authorization).sort()).toEqual([`Bearer ${clientToken}`, `Bearer ${trainerToken}`].sort());
    for (const sub of [...ten, other]) expect(sub.events).toEqual([{ data: { announcement: { text: 'class moved to room 2', author } } }]);

    // Nine leave: the shared upstream stays for the tenth.
    const activeBefore = gateway.live!.active();
    await Promise.all(ten.slice(0, 9).map((s) => s.dispose()));
    await until(() => gateway.live!.active() === activeBefore - 9, 5_000, 'nine subscriptions gone');
    await publishUntilHeard('ten', [ten[9], other], 'still here');
    expect(announcements.served.length).toBe(startedBefore + 2);
    // The last one leaves: the gateway completes the upstream subscription, the subgraph sees it end.
    const openBefore = announcements.open();
    await ten[9].dispose();
    await until(() => announcements.open() === openBefore - 1, 5_000, "the client's upstream subscription to close");
    await other.dispose();
    await until(() => announcements.open() === openBefore - 2, 5_000, "the trainer's upstream subscription to close");
  });

  it('reaches the subgraph over SSE where <NAME>_SUBSCRIPTIONS=sse says so, with the same identity', async () => {
    const startedBefore = announcements.served.length;
    const overWs = subscribe(clientToken, 'sse', sseGateway);
    const overSse = subscribeSse(sseGateway.url, clientToken, QUERY, { variables: { channel: 'sse' } });
    sse.push(overSse);
    await until(() => announcements.served.length > startedBefore && sseGateway.live!.active() === 2, 5_000, 'the upstream subscription');
    await publishUntilHeard('sse', [overWs, overSse], 'over SSE');
    expect(overWs.events).toEqual([{ data: { announcement: { text: 'over SSE', author } } }]);
    expect(overSse.events).toEqual(overWs.events);
    const served = announcements.served.slice(startedBefore);
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ transport: 'sse', channel: 'sse', authorization: `Bearer ${clientToken}`, service: 'gateway' });
    expect(served[0].correlationId).toMatch(/\S/);

    // The subgraph ends it: both clients hear SERVICE_UNAVAILABLE, then complete.
    announcements.end('sse');
    await until(() => overWs.completed && overSse.completed, 5_000, 'both clients to complete');
    for (const sub of [overWs, overSse]) {
      expect(sub.events.at(-1)?.errors).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', service: 'announcements' }) }),
      ]);
    }
  });

  it('ends client subscriptions with SERVICE_UNAVAILABLE and complete when the upstream ends or fails', async () => {
    const ended = subscribe(clientToken, 'ends');
    await until(() => announcements.served.some((s) => s.channel === 'ends'), 5_000, 'the upstream subscription');
    await publishUntilHeard('ends', [ended], 'last call');
    announcements.end('ends');
    await until(() => ended.completed, 5_000, 'complete');
    expect(ended.events).toEqual([
      { data: { announcement: { text: 'last call', author } } },
      {
        errors: [
          expect.objectContaining({ message: expect.stringContaining('announcements'), extensions: { code: 'SERVICE_UNAVAILABLE', service: 'announcements' } }),
        ],
      },
    ]);

    const failed = subscribe(clientToken, 'fails');
    await until(() => announcements.served.some((s) => s.channel === 'fails'), 5_000, 'the upstream subscription');
    await publishUntilHeard('fails', [failed]);
    announcements.dropSockets();
    await until(() => failed.completed, 5_000, 'complete');
    expect(failed.events.at(-1)).toEqual({
      errors: [expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', service: 'announcements' } })],
    });
    // A GraphQL error and `complete`, not a dropped connection (the client closes its idle socket itself, 1000).
    expect(failed.errors).toEqual([]);
    expect(failed.closed?.code ?? 1000).toBe(1000);
  });

  it("passes on the subgraph's own refusal, coded, then ends the subscription", async () => {
    const refused = subscribe(clientToken, 'staff');
    await until(() => refused.completed, 5_000, 'complete');
    expect(refused.events[0]).toEqual({
      data: null,
      errors: [expect.objectContaining({ message: 'Only staff read the staff channel', extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })],
    });
    expect(refused.events.at(-1)?.errors).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', service: 'announcements' } })]);
    // The same subscription with the staff member's token is served.
    const allowed = subscribe(trainerToken, 'staff');
    await until(() => announcements.served.filter((s) => s.channel === 'staff').length === 2, 5_000, 'the staff subscription');
    await publishUntilHeard('staff', [allowed], 'staff meeting');
    expect(allowed.events).toEqual([{ data: { announcement: { text: 'staff meeting', author } } }]);
    await allowed.dispose();
  });

  it('applies the same limits and token check before anything is sent upstream', async () => {
    const startedBefore = announcements.served.length;
    const aliases = Array.from({ length: 40 }, (_, i) => `t${i}: text`).join(' ');
    const wide = subscribeWs(gateway.url, clientToken, `subscription { announcement(channel: "x") { ${aliases} } }`);
    ws.push(wide);
    await until(() => wide.errors.length > 0 || wide.completed, 5_000, 'the refusal');
    expect(wide.errors).toEqual([
      [expect.objectContaining({ message: 'The operation uses more than 30 aliases', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
    ]);
    const anonymous = subscribeWs(gateway.url, undefined, QUERY, undefined, { variables: { channel: 'x' } });
    ws.push(anonymous);
    await until(() => anonymous.closed !== undefined, 5_000, 'the refused connection');
    expect(anonymous.closed?.code).toBe(4403);
    // A positive control that goes through: only it reaches the subgraph.
    const ok = subscribe(clientToken, 'control');
    await until(() => announcements.served.length > startedBefore, 5_000, 'the control subscription upstream');
    expect(announcements.served.slice(startedBefore).map((s) => s.channel)).toEqual(['control']);
    await ok.dispose();
  });

  it('keeps an upstream subscription through a hot reload that leaves its fetch alone', async () => {
    const sub = subscribe(clientToken, 'reload');
    await until(() => announcements.served.some((s) => s.channel === 'reload'), 5_000, 'the upstream subscription');
    await publishUntilHeard('reload', [sub], 'before');
    const startedBefore = announcements.served.length;
    const hashBefore = gateway.supergraph.status().hash;
    // The team adds a query field: the subscription's plan is the same, its upstream stays.
    const changed = ANNOUNCEMENTS_SDL.replace('announcementChannels: [String!]!', 'announcementChannels: [String!]!\n    announcementCount: Int!');
    const next = compose([...platform.sources, { name: 'announcements', url: announcements.url, sdl: changed, subscriptions: 'ws' }]);
    if (!next.ok) throw new Error(formatProblems(next.problems));
    await writeFile(join(dir, 'next.graphql'), next.supergraphSdl);
    await rename(join(dir, 'next.graphql'), join(dir, 'supergraph.graphql'));
    await gateway.supergraph.reload();
    expect(gateway.supergraph.status().hash).not.toBe(hashBefore);
    await publishUntilHeard('reload', [sub], 'after');
    expect(sub.events.map((e) => e.data?.announcement?.text)).toEqual(['before', 'after']);
    expect(announcements.served.length).toBe(startedBefore);
    expect(sub.completed).toBe(false);
  });

  /** The connections the gateway opened to the subgraph as `token`'s caller. */
  const connectionsOf = (token: string) => announcements.connections.filter((c) => c.authorization === `Bearer ${token}`);

  it("carries every upstream subscription of one caller over one connection, never another caller's, and closes it after the caller's last", async () => {
    const [memberToken, otherToken] = await Promise.all([platform.tokenFor(members[0]), platform.tokenFor(members[1])]);
    const channels = ['one', 'two', 'three', 'four', 'five'];
    const connectionsBefore = gateway.live!.upstreamConnections();
    const openBefore = announcements.open();
    // Opened at once: the first subscribe opens the connection, the others go over it.
    const mine = channels.map((channel) => subscribe(memberToken, channel));
    const theirs = channels.slice(0, 2).map((channel) => subscribe(otherToken, channel));
    await until(() => announcements.open() === openBefore + 7, 5_000, 'seven upstream subscriptions');
    for (const [i, channel] of channels.entries()) await publishUntilHeard(channel, [mine[i], ...(theirs[i] ? [theirs[i]] : [])], `on ${channel}`);
    // Seven upstream subscriptions (none identical to another), two connections: one per caller.
    expect(connectionsOf(memberToken)).toEqual([{ authorization: `Bearer ${memberToken}`, open: true }]);
    expect(connectionsOf(otherToken)).toEqual([{ authorization: `Bearer ${otherToken}`, open: true }]);
    expect(gateway.live!.upstreamConnections()).toBe(connectionsBefore + 2);
    // The subgraph's access checks see each subscription's own caller.
    const started = announcements.served.filter((s) => channels.includes(s.channel));
    expect(
      started
        .filter((s) => s.authorization === `Bearer ${memberToken}`)
        .map((s) => s.channel)
        .sort(),
    ).toEqual([...channels].sort());
    expect(
      started
        .filter((s) => s.authorization === `Bearer ${otherToken}`)
        .map((s) => s.channel)
        .sort(),
    ).toEqual(['one', 'two']);
    for (const [i, sub] of mine.entries()) expect(sub.events).toEqual([{ data: { announcement: { text: `on ${channels[i]}`, author } } }]);

    // Four of the member's five end: the connection stays for the fifth.
    await Promise.all(mine.slice(0, 4).map((s) => s.dispose()));
    await publishUntilHeard('five', [mine[4]], 'still open');
    expect(connectionsOf(memberToken)).toEqual([{ authorization: `Bearer ${memberToken}`, open: true }]);
    // The last one ends: the member's connection closes, the other caller's stays.
    await mine[4].dispose();
    await until(() => !connectionsOf(memberToken)[0].open, 5_000, "the member's connection to close");
    expect(connectionsOf(otherToken)[0].open).toBe(true);
    await publishUntilHeard('one', [theirs[0]], 'for the other caller');
    await Promise.all(theirs.map((s) => s.dispose()));
    await until(() => !connectionsOf(otherToken)[0].open, 5_000, "the other caller's connection to close");
    expect(gateway.live!.upstreamConnections()).toBe(connectionsBefore);

    // The member subscribes again: a new connection, not the closed one.
    const servedBefore = announcements.served.length;
    const again = subscribe(memberToken, 'one');
    await until(() => announcements.served.length === servedBefore + 1, 5_000, 'the new upstream subscription');
    await publishUntilHeard('one', [again], 'back again');
    expect(connectionsOf(memberToken).map((c) => c.open)).toEqual([false, true]);
    await again.dispose();
  });

  it('opens every subscription of many callers subscribing at once, one connection each, a few handshakes at a time', async () => {
    // More callers than DEFAULT_MAX_UPSTREAM_HANDSHAKES, each with its own connection, all at once.
    // Callers no earlier test used: an identical subscription still open from one would be shared, not opened.
    const callers = Array.from({ length: 2 * DEFAULT_MAX_UPSTREAM_HANDSHAKES + 8 }, () => ({ id: randomUUID(), role: 'CLIENT' as const }));
    const tokens = await Promise.all(callers.map((m) => platform.tokenFor(m)));
    announcements.handshakes.max = announcements.handshakes.now;
    const channels = ['a', 'b'];
    const subs = tokens.flatMap((token) => channels.map((channel) => ({ channel, sub: subscribe(token, channel) })));
    // Counted by caller: an earlier test's subscription may still be closing, so the subgraph's open count moves on its own.
    const servedFor = (token: string) => announcements.served.filter((s) => s.authorization === `Bearer ${token}`).map((s) => s.channel);
    // A wait, not a deadline: 40 connections a few at a time on a loaded machine.
    await until(() => tokens.every((token) => servedFor(token).length === channels.length), 30_000, 'every upstream subscription');
    for (const token of tokens) expect(servedFor(token).sort()).toEqual(channels);
    for (const channel of channels) {
      await publishUntilHeard(
        channel,
        subs.filter((s) => s.channel === channel).map((s) => s.sub),
        `burst on ${channel}`,
      );
    }
    for (const { sub } of subs) expect(sub.completed).toBe(false);
    for (const token of tokens) expect(connectionsOf(token)).toEqual([{ authorization: `Bearer ${token}`, open: true }]);
    // The gateway never had more than its limit in their handshake at once (the subgraph saw as many or fewer).
    expect(announcements.handshakes.max).toBeGreaterThan(0);
    expect(announcements.handshakes.max).toBeLessThanOrEqual(DEFAULT_MAX_UPSTREAM_HANDSHAKES);
    await Promise.all(subs.map(({ sub }) => sub.dispose()));
    await until(() => tokens.every((token) => !connectionsOf(token)[0].open), 5_000, 'every connection to close');
  });

  it('ends every subscription of a failed connection with SERVICE_UNAVAILABLE and complete, and the next subscribe connects anew', async () => {
    const token = await platform.tokenFor(members[10]);
    const channels = ['f1', 'f2', 'f3'];
    const subs = channels.map((channel) => subscribe(token, channel));
    const servedFor = () => announcements.served.filter((s) => s.authorization === `Bearer ${token}` && channels.includes(s.channel));
    await until(() => servedFor().length === 3, 5_000, 'three upstream subscriptions');
    for (const [i, channel] of channels.entries()) await publishUntilHeard(channel, [subs[i]]);
    expect(connectionsOf(token)).toHaveLength(1);
    announcements.dropSockets();
    await until(() => subs.every((s) => s.completed), 5_000, 'every subscription to complete');
    for (const sub of subs) {
      expect(sub.events.at(-1)).toEqual({
        errors: [expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', service: 'announcements' } })],
      });
      expect(sub.errors).toEqual([]);
    }
    const servedBefore = announcements.served.length;
    const again = subscribe(token, 'f1');
    await until(() => announcements.served.length === servedBefore + 1, 5_000, 'the new upstream subscription');
    await publishUntilHeard('f1', [again], 'after the failure');
    expect(connectionsOf(token)).toHaveLength(2);
    await again.dispose();
  });

  it('opens again a connection the subgraph closed for a late connection_init (4408), before anything was subscribed on it', async () => {
    // A caller no earlier test used, so its first connection is a new one (the one the subgraph closes).
    const token = await platform.tokenFor({ id: randomUUID(), role: 'CLIENT' });
    const lateBefore = announcements.lateInits();
    announcements.lateInitOnce(`Bearer ${token}`);
    const subs = ['l1', 'l2'].map((channel) => subscribe(token, channel));
    const served = () => announcements.served.filter((s) => s.authorization === `Bearer ${token}`).map((s) => s.channel);
    await until(() => served().length === 2, 5_000, 'both upstream subscriptions');
    await publishUntilHeard('l1', [subs[0]], 'late but there');
    await publishUntilHeard('l2', [subs[1]], 'late but there');
    expect(announcements.lateInits()).toBe(lateBefore + 1);
    expect(connectionsOf(token).filter((c) => c.open)).toHaveLength(1);
    for (const sub of subs) expect(sub.completed).toBe(false);
    await Promise.all(subs.map((s) => s.dispose()));
  });

  it('gives back the handshake turn of a connection that never got its acknowledgement, so later callers still connect', async () => {
    // More callers than DEFAULT_MAX_UPSTREAM_HANDSHAKES whose every connection_init is refused (4408 past the retries):
    // had a refused handshake kept its turn, the next caller would wait for ever.
    const refused = await Promise.all(
      Array.from({ length: DEFAULT_MAX_UPSTREAM_HANDSHAKES + 2 }, () => platform.tokenFor({ id: randomUUID(), role: 'CLIENT' })),
    );
    for (const token of refused) announcements.lateInitOnce(`Bearer ${token}`, 10);
    const failing = refused.map((token) => subscribe(token, 'r'));
    await until(() => failing.every((s) => s.completed), 20_000, 'every refused subscription to end');
    for (const sub of failing) {
      expect(sub.events.at(-1)).toEqual({
        errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) })],
      });
    }
    const token = await platform.tokenFor({ id: randomUUID(), role: 'CLIENT' });
    const sub = subscribe(token, 'r');
    await until(() => announcements.served.some((s) => s.authorization === `Bearer ${token}`), 5_000, "the later caller's upstream subscription");
    await publishUntilHeard('r', [sub], 'after the refusals');
    await sub.dispose();
  });
});
