import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { authenticateRequest, createTokenVerifier, liveMessage, liveMessageFromBody, subscribeThroughGateway, type Clock } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import express from 'express';
import { parse } from 'graphql';

/**
 * A stand-in for notifications with one subscription field, resolved from the live
 * message the gateway attaches to the primary fetch, as the real subgraph does. User
 * tokens are checked on the same clock as the gateway's.
 */
export const STUB_NOTIFICATIONS_SDL = `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
    @link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])
    @composeDirective(name: "@liveTopic")

  directive @liveTopic(name: String!, recipients: [String!]!) on FIELD_DEFINITION

  type Query {
    unreadNotificationCount: Int
  }

  type Subscription {
    unreadNotificationCountChanged: Int! @liveTopic(name: "unreadNotificationCountChanged", recipients: ["user_id"])
  }
`;

type Context = { liveMessage?: ReturnType<typeof liveMessageFromBody> };

export interface StubNotifications {
  url: string;
  close(): Promise<void>;
}

export async function startStubNotifications(clock: Clock): Promise<StubNotifications> {
  const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET, clock);
  const apollo = new ApolloServer<Context>({
    schema: buildSubgraphSchema({
      typeDefs: parse(STUB_NOTIFICATIONS_SDL),
      resolvers: {
        Query: { unreadNotificationCount: () => 0 },
        Subscription: {
          unreadNotificationCountChanged: {
            subscribe: subscribeThroughGateway,
            resolve: (_: unknown, __: unknown, ctx: unknown) => liveMessage(ctx as Context, 'unreadNotificationCountChanged').count,
          },
        },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const app = express();
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({ ...(await authenticateRequest(req.headers, verifier)), liveMessage: liveMessageFromBody(req.body) }),
    }),
  );
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
