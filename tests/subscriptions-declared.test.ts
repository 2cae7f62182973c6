// Issue 15: a team declares a broker subscription in its own SDL (@liveTopic), and the
// running gateway serves it after a hot reload, with no change to the gateway and no
// restart; each message reaches only the users its recipient fields name.
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
import type { RunningGateway } from '@fitsync/gateway';
import { liveMessage, liveMessageFromBody, subscribeThroughGateway } from '@fitsync/service-kit';
import { redisUrlForTests, testClock } from '@fitsync/service-kit/testing';
import express from 'express';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subscribeSse, subscribeWs, until, type LiveSubscription, type SseSubscription } from './support/live.js';
import { startPlatform, type Platform } from './support/platform.js';

const { clock, today } = testClock();
const gym = demoGym(today);
const client = gym.users.find((u) => u.email === DEMO_LOGINS.client)!;
const trainer = gym.users.find((u) => u.email === DEMO_LOGINS.trainer)!;

/** A team's new subgraph: one broker-fed field, its author resolved by users through an entity reference. */
const ANNOUNCEMENTS_SDL = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
    @link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])
    @composeDirective(name: "@liveTopic")

  directive @liveTopic(name: String!, recipients: [String!]!) on FIELD_DEFINITION

  type User @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Announcement {
    text: String!
    author: User!
  }

  type Subscription {
    announcement: Announcement! @liveTopic(name: "gym-announcements", recipients: ["audience"])
  }
`;

type Announcement = { text: string; author_id: string; audience: string[] };
type Context = { liveMessage?: ReturnType<typeof liveMessageFromBody> };

async function startAnnouncements(): Promise<{ url: string; close(): Promise<void> }> {
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema({
      typeDefs: parse(ANNOUNCEMENTS_SDL),
      resolvers: {
        Subscription: {
          announcement: {
            subscribe: subscribeThroughGateway,
            resolve: (_: unknown, __: unknown, ctx: unknown) => {
              const { text, author_id } = liveMessage(ctx as Context, 'gym-announcements') as Announcement;
              return { text, author: { id: author_id } };
            },
          },
        },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const app = express();
  app.use('/graphql', express.json(), expressMiddleware(apollo, { context: async ({ req }) => ({ liveMessage: liveMessageFromBody(req.body) }) }));
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}

const transports = (['memory', ...(redisUrlForTests() ? ['redis'] : [])] as const).map((t) => t as 'memory' | 'redis');

describe.each(transports)('a broker subscription declared in a hot reload, live messages over %s', (transport) => {
  let platform: Platform;
  let gateway: RunningGateway;
  let announcements: Awaited<ReturnType<typeof startAnnouncements>>;
  let dir: string;
  const subs: LiveSubscription[] = [];
  const sse: SseSubscription[] = [];

  beforeAll(async () => {
    platform = await startPlatform('pglite', [gym], { clock, transport });
    announcements = await startAnnouncements();
    dir = await mkdtemp(join(tmpdir(), 'fitsync-live-declared-'));
    const today = compose(platform.sources);
    if (!today.ok) throw new Error(formatProblems(today.problems));
    await writeFile(join(dir, 'supergraph.graphql'), today.supergraphSdl);
    gateway = await platform.startGateway({ supergraphSdl: undefined }, { SUPERGRAPH_PATH: join(dir, 'supergraph.graphql') });
  });
  afterAll(async () => {
    await Promise.all(subs.map((s) => s.dispose()));
    for (const s of sse) s.close();
    await platform?.close();
    await announcements?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the new field without a restart and hands each message only to the users it names', async () => {
    const QUERY = 'subscription { announcement { text author { id name } } }';
    const [clientToken, trainerToken] = await Promise.all([platform.tokenFor(client), platform.tokenFor(trainer)]);

    // Before the reload the field does not exist.
    const early = subscribeWs(gateway.url, clientToken, QUERY);
    subs.push(early);
    await until(() => early.errors.length > 0 || early.completed, 5_000, 'the early subscription to be refused');
    expect(JSON.stringify(early.errors)).toContain('GRAPHQL_VALIDATION_FAILED');

    // The team publishes: a new supergraph, renamed over the one the running gateway watches.
    const next = compose([...platform.sources, { name: 'announcements', url: announcements.url, sdl: ANNOUNCEMENTS_SDL }]);
    if (!next.ok) throw new Error(formatProblems(next.problems));
    await writeFile(join(dir, 'next.graphql'), next.supergraphSdl);
    await rename(join(dir, 'next.graphql'), join(dir, 'supergraph.graphql'));
    await gateway.supergraph.reload();

    const forClient = subscribeWs(gateway.url, clientToken, QUERY);
    const forTrainer = subscribeWs(gateway.url, trainerToken, QUERY);
    // The same contract over SSE.
    const forTrainerSse = subscribeSse(gateway.url, trainerToken, QUERY);
    subs.push(forClient, forTrainer);
    sse.push(forTrainerSse);
    await until(() => gateway.live!.active() === 3, 5_000, 'three subscriptions');

    const publish = (payload: Announcement) => platform.subgraphs.notifications.live.publish('gym-announcements', payload);
    // Until the gateway hears the new topic (Redis subscribes asynchronously), probes for the client alone.
    await vi.waitFor(
      async () => {
        await publish({ text: 'probe', author_id: trainer.id, audience: [client.id] });
        await new Promise((r) => setTimeout(r, 50));
        if (forClient.events.length === 0) throw new Error('the gateway does not hear gym-announcements yet');
      },
      { timeout: 10_000, interval: 10 },
    );

    await publish({ text: 'for the client', author_id: trainer.id, audience: [client.id] });
    await publish({ text: 'for the trainer', author_id: trainer.id, audience: [trainer.id] });
    // Positive control: the trainer's first event is the later message; neither the probes nor
    // the client's message reached them.
    await forTrainer.waitFor(1);
    const author = { id: trainer.id, name: trainer.name };
    expect(forTrainer.events[0]).toEqual({ data: { announcement: { text: 'for the trainer', author } } });

    await publish({ text: 'for both', author_id: trainer.id, audience: [client.id, trainer.id, client.id] });
    await forTrainer.waitFor(2);
    const texts = () => forClient.events.map((e) => e.data?.announcement?.text).filter((t) => t !== 'probe');
    await until(() => texts().length >= 2, 5_000, "the client's two messages");
    expect(texts()).toEqual(['for the client', 'for both']);
    expect(forClient.events.every((e) => e.errors === undefined && e.data.announcement.author.name === trainer.name)).toBe(true);
    expect(forTrainer.events.map((e) => e.data?.announcement?.text)).toEqual(['for the trainer', 'for both']);
    await forTrainerSse.waitFor(2);
    expect(forTrainerSse.events).toEqual(forTrainer.events);
    expect(forClient.completed || forTrainer.completed).toBe(false);
  });
});
