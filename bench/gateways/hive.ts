// Peer (c): Hive Gateway through its programmatic runtime, served by node:http as
// its CLI does, on the same supergraph file. Its only configuration is what the
// subgraphs demand: the gateway's service credential on every subgraph request and
// the client's Authorization header passed along.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { SERVICE_TOKEN_HEADER, createServiceCredentials } from '../../packages/service-kit/src/auth.js';

const credentials = createServiceCredentials('gateway', process.env.SERVICE_SECRET!);

const gateway = createGatewayRuntime({
  supergraph: process.env.SUPERGRAPH_PATH!,
  logging: 'warn',
  propagateHeaders: {
    fromClientToSubgraphs: async ({ request }) => ({
      [SERVICE_TOKEN_HEADER]: await credentials.token(),
      authorization: request.headers.get('authorization'),
    }),
  },
});
const server = createServer(gateway);
server.listen(Number(process.env.GATEWAY_PORT), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`hive gateway listening on ${port}`);
  // The bench starts it on port 0 and learns the port over IPC, as from every service (bench/processes.ts).
  process.send?.({ fitsync: 'listening', port });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    server.close();
    void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
  });
}
