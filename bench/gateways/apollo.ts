// Peer (b): plain @apollo/gateway + @apollo/server standalone, nothing added but what
// the subgraphs demand to answer at all: the gateway's service credential and the
// client's Authorization header passed along.
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { SERVICE_TOKEN_HEADER, createServiceCredentials } from '../../packages/service-kit/src/auth.js';

type Context = { authorization?: string };

const credentials = createServiceCredentials('gateway', process.env.SERVICE_SECRET!);

class CredentialedDataSource extends RemoteGraphQLDataSource<Context> {
  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Context>) {
    request.http!.headers.set(SERVICE_TOKEN_HEADER, await credentials.token());
    if (context.authorization) request.http!.headers.set('authorization', context.authorization);
  }
}

process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
const server = new ApolloServer<Context>({
  gateway: new ApolloGateway({
    supergraphSdl: readFileSync(process.env.SUPERGRAPH_PATH!, 'utf8'),
    buildService: ({ url }) => new CredentialedDataSource({ url }),
  }),
});
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.GATEWAY_PORT), host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`apollo gateway listening at ${url}`);
// The bench starts it on port 0 and learns the port over IPC, as from every service (bench/processes.ts).
process.send?.({ fitsync: 'listening', port: Number(new URL(url).port) });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void server.stop().finally(() => process.exit(0)));
