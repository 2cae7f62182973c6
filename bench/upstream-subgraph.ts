/**
 * The subgraph of `npm run bench:subscriptions -- --mode upstream` (not a test): it serves
 * its own subscription, `Subscription.tick`, over graphql-ws, as any Apollo Server subgraph
 * can. Each subscription is its caller's (the user token the gateway forwards in
 * `connection_init`); the bench process sends `{ user, seq }` over IPC and the subgraph
 * emits `seq` to that user's subscriptions. It runs in a process of its own, so its
 * sockets are not counted in the gateway's memory.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createTokenVerifier, SERVICE_TOKEN_HEADER } from '@fitsync/service-kit';
import { TEST_JWT_SECRET, TEST_SERVICE_SECRET } from '@fitsync/service-kit/testing';
import { parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

export const TICKER_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { tickerName: String! }
  type Subscription { tick: Int! }
`;

export type ToTicker = { user: string; seq: number } | { type: 'count' };
export type FromTicker = { type: 'listening'; url: string } | { type: 'subscribed'; count: number };

if (process.argv.includes('--ticker-process')) void serve();

async function serve() {
  const verifier = createTokenVerifier(TEST_JWT_SECRET, TEST_SERVICE_SECRET);
  const hub = new EventEmitter();
  hub.setMaxListeners(0);
  const schema = buildSubgraphSchema({
    typeDefs: parse(TICKER_SDL),
    resolvers: {
      Query: { tickerName: () => 'ticker' },
      Subscription: {
        tick: {
          subscribe: (_: unknown, __: unknown, ctx: unknown) => ticks(hub, (ctx as { user: string }).user),
          resolve: (seq: number) => seq,
        },
      },
    },
  });
  const server = createServer((_, res) => res.writeHead(404).end());
  useServer<Record<string, unknown>, { user: string }>(
    {
      schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          await verifier.verifyService(String(params[SERVICE_TOKEN_HEADER]));
          const viewer = await verifier.verifyUser(String(params.authorization).replace(/^Bearer\s+/i, ''));
          ctx.extra.user = viewer.id;
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => ({ user: ctx.extra.user }),
    },
    new WebSocketServer({ server, path: '/graphql' }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const subscribed = () => hub.eventNames().reduce((n, user) => n + hub.listenerCount(user), 0);
  process.on('message', (m: ToTicker) => {
    if ('type' in m) process.send!({ type: 'subscribed', count: subscribed() } satisfies FromTicker);
    else hub.emit(m.user, m.seq);
  });
  process.send!({ type: 'listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` } satisfies FromTicker);
}

/** The user's ticks until the subscription returns. */
function ticks(hub: EventEmitter, user: string): AsyncIterableIterator<number> {
  const queue: number[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const onTick = (seq: number) => {
    queue.push(seq);
    wake?.();
  };
  hub.on(user, onTick);
  return {
    async next() {
      while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.length > 0 ? { done: false, value: queue.shift()! } : { done: true, value: undefined };
    },
    async return() {
      done = true;
      hub.off(user, onTick);
      wake?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
