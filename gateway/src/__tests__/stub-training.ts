import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { authenticateRequest, createTokenVerifier, type Clock } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import express from 'express';
import { parse } from 'graphql';

/**
 * The users schema alone does not compose (`User.trainerIds` is @external there,
 * owned by training), so the gateway tests put this small stand-in for training
 * next to the real users subgraph. It checks credentials like a real subgraph and
 * records the headers it was sent.
 */
export const STUB_TRAINING_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type User @key(fields: "id") {
    id: ID!
    trainerIds: [ID!]!
    "Nullable, so that this subgraph being down empties only this field."
    nickname: String
  }
`;

export interface StubTraining {
  url: string;
  /** Headers of every request it answered, oldest first. */
  seen: IncomingHttpHeaders[];
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** `clock`: what user tokens are checked against (pin it to the gateway's); default the system clock. */
export async function startStubTraining(trainerIdsOf: (userId: string) => string[], clock?: Clock): Promise<StubTraining> {
  const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET, clock);
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(STUB_TRAINING_SDL),
      resolvers: {
        User: {
          __resolveReference: ({ id }: { id: string }) => ({ id, trainerIds: trainerIdsOf(id), nickname: `nick-${id.slice(0, 8)}` }),
        },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const seen: IncomingHttpHeaders[] = [];
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        seen.push(req.headers);
        return authenticateRequest(req.headers, verifier);
      },
    }),
  );
  const server: Server = createServer(app);
  const listenOn = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listenOn(0);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    seen,
    stop,
    restart: () => listenOn(port),
    async close() {
      if (server.listening) await stop();
      await apollo.stop();
    },
  };
}
