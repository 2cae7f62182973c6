import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { compose, supergraphHash, writeFileAtomic } from '@fitsync/composition';
import type { LiveMessage } from '@fitsync/live';
import { createLogger } from '@fitsync/service-kit';
import { testConfig } from '@fitsync/service-kit/testing';
import { GraphQLError, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriptionExecutor, type PreparedSubscription } from '../live/executor.js';
import type { GatewayContext } from '../context.js';
import { createGateway, type RunningGateway } from '../server.js';
import { validateSupergraph } from '../supergraph-source.js';

/**
 * Federation cases where @apollo/query-planner 2.14 answers wrongly (issue 18), each with its
 * own tiny subgraphs: our gateway answers what the federation spec says, and plain
 * @apollo/gateway is asserted to answer otherwise, so this file notices when upstream fixes a
 * case (then the workaround in gateway/src/planner-fixes/ can go).
 */

const FEDERATION = '@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@shareable", "@interfaceObject"])';

/** @apollo/subgraph's resolver map (its type is not exported). */
type Resolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { resolvers?: unknown }>['resolvers']>;

interface Subgraph {
  name: string;
  sdl: string;
  resolvers: Resolvers;
}

interface Running {
  url: string;
  /** Operations this subgraph was asked, in order. */
  queries: string[];
  /** Their variables. */
  variables: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** A subgraph on port 0 with @apollo/subgraph, recording the operations it is sent. */
async function startSubgraph(subgraph: Subgraph): Promise<Running> {
  const queries: string[] = [];
  const variables: Record<string, unknown>[] = [];
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: parse(subgraph.sdl), resolvers: subgraph.resolvers }),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          queries.push(request.query ?? '');
          variables.push(request.variables ?? {});
        },
      },
    ],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, queries, variables, stop: () => server.stop() };
}

/** The supergraph of these subgraphs, composed by @apollo/composition itself (not our checks). */
function supergraphOf(subgraphs: Subgraph[], running: Running[]): string {
  const result = composeServices(subgraphs.map((s, i) => ({ name: s.name, url: running[i].url, typeDefs: parse(s.sdl) })));
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

type Answer = { data?: unknown; errors?: { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] };

/** Plain @apollo/gateway behind Apollo Server, as the upstream reference. */
async function askPlainGateway(supergraphSdl: string, query: string): Promise<Answer> {
  const before = process.env.APOLLO_TELEMETRY_DISABLED;
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({ supergraphSdl, logger: createLogger('gateway', 'silent') });
  if (before === undefined) delete process.env.APOLLO_TELEMETRY_DISABLED;
  else process.env.APOLLO_TELEMETRY_DISABLED = before;
  const server = new ApolloServer({ gateway, logger: createLogger('gateway', 'silent'), includeStacktraceInErrorResponses: false });
  await server.start();
  try {
    const response = await server.executeOperation({ query });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    const { data, errors } = response.body.singleResult;
    return { data, ...(errors ? { errors: errors as Answer['errors'] } : {}) };
  } finally {
    await server.stop();
  }
}

async function askOurGateway(gateway: RunningGateway, query: string): Promise<Answer> {
  const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  expect(res.headers.get('content-type')).toMatch(/application\/(graphql-response\+)?json/);
  const { data, errors } = (await res.json()) as Answer;
  return { data, ...(errors ? { errors } : {}) };
}

/** For a describe block: starts the subgraphs, composes them and starts our gateway on the supergraph (all on port 0); stops them after. */
function conformanceCase(subgraphs: Subgraph[]) {
  const state: { running: Running[]; supergraphSdl: string; gateway?: RunningGateway } = { running: [], supergraphSdl: '' };
  beforeAll(async () => {
    state.running = await Promise.all(subgraphs.map(startSubgraph));
    state.supergraphSdl = supergraphOf(subgraphs, state.running);
    state.gateway = await createGateway(testConfig('gateway'), { supergraphSdl: state.supergraphSdl, live: false });
  });
  afterAll(async () => {
    await state.gateway?.close();
    await Promise.all(state.running.map((r) => r.stop()));
  });
  return state;
}

/** Product has two keys in `store`; the one on upc is resolvable: false (store cannot look a product up by it). */
const products = new Map([['p1', { id: 'p1', upc: 'u1' }]]);
const KEYS: Subgraph[] = [
  {
    name: 'pricing',
    sdl: `extend schema ${FEDERATION}
      type Product @key(fields: "id") { id: ID! upc: String! @shareable price: Int }`,
    resolvers: { Product: { __resolveReference: (ref: { id: string }) => ({ ...products.get(ref.id), price: 100 }) } },
  },
  {
    name: 'store',
    sdl: `extend schema ${FEDERATION}
      type Query { product: Product }
      type Product @key(fields: "upc", resolvable: false) @key(fields: "id") {
        id: ID! upc: String! @shareable price: Int @external tax: Int @requires(fields: "price")
      }`,
    resolvers: {
      Query: { product: () => products.get('p1') },
      Product: {
        // By id only, as its resolvable key says: a representation without one is no product of this subgraph.
        __resolveReference: (ref: { id?: string; price?: number }) => (ref.id && products.has(ref.id) ? { ...products.get(ref.id), price: ref.price } : null),
        tax: (p: { price: number }) => p.price / 10,
      },
    },
  },
];

/** An @interfaceObject for an interface no subgraph implements: the planner drops `name` and plans nothing. */
const EMPTY_PLAN: Subgraph[] = [
  {
    name: 'nodes',
    sdl: `extend schema ${FEDERATION}
      interface Node @key(fields: "id") { id: ID! }
      type Query { node: Node }`,
    resolvers: { Query: { node: () => null }, Node: { __resolveType: () => null } },
  },
  {
    name: 'names',
    sdl: `extend schema ${FEDERATION}
      type Query { named: Node }
      type Node @key(fields: "id") @interfaceObject { id: ID! name: String }`,
    resolvers: {
      Query: { named: () => ({ id: 'n1', name: 'node n1' }) },
      Node: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `node ${ref.id}` }) },
    },
  },
];

/** A @requires of `comments(limit: 3)`, while clients ask for other limits. */
const comments = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => ({ id }));
const REQUIRES_ARGUMENTS: Subgraph[] = [
  {
    name: 'posts',
    sdl: `extend schema ${FEDERATION}
      type Query { post: Post }
      type Comment { id: ID! @shareable text: String }
      type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! }`,
    resolvers: {
      Query: { post: () => ({ id: 'p1' }) },
      Post: { __resolveReference: (ref: { id: string }) => ref, comments: (_: unknown, args: { limit: number }) => comments.slice(0, args.limit) },
      Comment: {
        text: (c: { id: string }) => {
          if (c.id === 'c1') throw new GraphQLError('This comment was removed', { extensions: { code: 'NOT_FOUND' } });
          return `text of ${c.id}`;
        },
      },
    },
  },
  {
    name: 'digest',
    sdl: `extend schema ${FEDERATION}
      type Comment { id: ID! @shareable }
      type Post @key(fields: "id") {
        id: ID!
        comments(limit: Int!): [Comment!]! @external
        summary: String @requires(fields: "comments(limit: 3) { id }")
      }`,
    resolvers: {
      Post: {
        __resolveReference: (ref: unknown) => ref,
        summary: (post: { comments: { id: string }[] }) => `latest: ${post.comments.map((c) => c.id).join(', ')}`,
      },
    },
  },
];

/** Two @requires of `price` in other currencies. */
const REQUIRES_CONFLICT: Subgraph[] = [
  {
    name: 'prices',
    sdl: `extend schema ${FEDERATION}
      type Query { product: Product }
      type Product @key(fields: "id") { id: ID! price(currency: String!): Int }`,
    resolvers: {
      Query: { product: () => ({ id: 'p1' }) },
      Product: {
        __resolveReference: (ref: unknown) => ref,
        price: (_: unknown, args: { currency: string }) => ({ USD: 100, EUR: 90 })[args.currency],
      },
    },
  },
  {
    name: 'labels',
    sdl: `extend schema ${FEDERATION}
      type Product @key(fields: "id") {
        id: ID!
        price(currency: String!): Int @external
        usd: String @requires(fields: "price(currency: \\"USD\\")")
        eur: String @requires(fields: "price(currency: \\"EUR\\")")
      }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: unknown) => ref,
        usd: (p: { price: number }) => `$${p.price}`,
        eur: (p: { price: number }) => `€${p.price}`,
      },
    },
  },
];

describe('a @requires jump back into a subgraph uses a key it can resolve', () => {
  const subgraphs = KEYS;
  const state = conformanceCase(subgraphs);
  const QUERY = '{ product { id tax } }';

  it('answers the field computed from the required price', async () => {
    expect(await askOurGateway(state.gateway!, QUERY)).toEqual({ data: { product: { id: 'p1', tax: 10 } } });
    // The entity fetch that resolved tax sent the resolvable key, and the price required.
    const store = state.running[1];
    expect(store.queries.at(-1)).toContain('_entities');
    expect(store.variables.at(-1)).toEqual({ representations: [{ __typename: 'Product', price: 100, id: 'p1' }] });
  });

  it('plain @apollo/gateway sends the non-resolvable key and loses the field (remove the fix when this fails)', async () => {
    expect(await askPlainGateway(state.supergraphSdl, QUERY)).toEqual({ data: { product: { id: 'p1', tax: null } } });
    expect(state.running[1].variables.at(-1)).toEqual({ representations: [{ __typename: 'Product', price: 100, upc: 'u1' }] });
  });

  it('holds after a hot reload to a supergraph that needs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fitsync-conformance-'));
    const path = join(dir, 'supergraph.graphql');
    // Serving first the same subgraphs with store's keys in the order the planner copes with.
    const inOrder = KEYS.map((s) =>
      s.name === 'store'
        ? { ...s, sdl: s.sdl.replace('@key(fields: "upc", resolvable: false) @key(fields: "id")', '@key(fields: "id") @key(fields: "upc", resolvable: false)') }
        : s,
    );
    const first = supergraphOf(inOrder, state.running);
    expect(first).not.toBe(state.supergraphSdl);
    await writeFileAtomic(path, first);
    const gateway = await createGateway(testConfig('gateway', 'pglite', undefined, { SUPERGRAPH_PATH: path }), { live: false });
    try {
      expect(await askOurGateway(gateway, QUERY)).toEqual({ data: { product: { id: 'p1', tax: 10 } } });
      await writeFileAtomic(path, state.supergraphSdl);
      await gateway.supergraph.reload();
      expect(gateway.supergraph.status()).toMatchObject({ hash: supergraphHash(state.supergraphSdl), reloads: 1 });
      expect(await askOurGateway(gateway, QUERY)).toEqual({ data: { product: { id: 'p1', tax: 10 } } });
      expect(state.running[1].variables.at(-1)).toEqual({ representations: [{ __typename: 'Product', price: 100, id: 'p1' }] });
    } finally {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an operation the planner finds nothing to fetch for is an error, not null data', () => {
  const subgraphs = EMPTY_PLAN;
  const state = conformanceCase(subgraphs);
  const QUERY = '{ node { name } }';

  it('answers SERVICE_UNAVAILABLE, saying which field no subgraph resolves, and asks no subgraph', async () => {
    const asked = state.running.map((r) => r.queries.length);
    const answer = await askOurGateway(state.gateway!, QUERY);
    expect(answer.data).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'EMPTY_QUERY_PLAN' });
    expect(answer.errors![0].message).toContain('Query.node');
    expect(state.running.map((r) => r.queries.length)).toEqual(asked);
  });

  it('still answers what needs no fetch: __typename, introspection, skipped fields', async () => {
    expect(await askOurGateway(state.gateway!, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    expect(await askOurGateway(state.gateway!, '{ __type(name: "Node") { name } }')).toEqual({ data: { __type: { name: 'Node' } } });
    expect(await askOurGateway(state.gateway!, '{ __typename node @skip(if: true) { name } }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('plain @apollo/gateway answers null data without an error (remove the fix when this fails)', async () => {
    expect(await askPlainGateway(state.supergraphSdl, QUERY)).toEqual({ data: { node: null } });
  });

  it('an operation the planner throws on is coded the same way, not an HTTP 500', async () => {
    const res = await fetch(state.gateway!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ named { __typename } }' }),
    });
    expect(res.status).toBe(200);
    const { data, errors } = (await res.json()) as Answer;
    expect(data).toBeNull();
    expect(errors).toEqual([
      {
        message: 'The query planner cannot plan this operation over the supergraph served now; the gateway log has the details',
        extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'QUERY_PLANNING_FAILED' },
      },
    ]);
    // What the planner does with it, plain @apollo/gateway passing that on (remove the fix when this fails).
    expect(await askPlainGateway(state.supergraphSdl, '{ named { __typename } }')).toEqual({
      errors: [{ message: 'Subgraph nodes has no entities defined', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
  });
});

describe("a client's field that a @requires selects with other arguments keeps the client's arguments", () => {
  const subgraphs = REQUIRES_ARGUMENTS;
  const state = conformanceCase(subgraphs);
  const QUERY = '{ post { comments(limit: 1) { id } summary } }';
  const EXPECTED = { data: { post: { comments: [{ id: 'c1' }], summary: 'latest: c1, c2, c3' } } };

  it('answers one comment to the client and three to the @requires', async () => {
    expect(await askOurGateway(state.gateway!, QUERY)).toEqual(EXPECTED);
  });

  it('names the field back wherever it is: fragments, client aliases, lists, error paths', async () => {
    expect(await askOurGateway(state.gateway!, '{ post { ...P } } fragment P on Post { comments(limit: 2) { id } summary }')).toEqual({
      data: { post: { comments: [{ id: 'c1' }, { id: 'c2' }], summary: 'latest: c1, c2, c3' } },
    });
    expect(await askOurGateway(state.gateway!, '{ post { comments(limit: 2) { id text } summary } }')).toEqual({
      data: {
        post: {
          comments: [
            { id: 'c1', text: null },
            { id: 'c2', text: 'text of c2' },
          ],
          summary: 'latest: c1, c2, c3',
        },
      },
      errors: [{ message: 'This comment was removed', path: ['post', 'comments', 0, 'text'], extensions: { code: 'NOT_FOUND', serviceName: 'posts' } }],
    });
    // A client alias is a different response name: nothing to collide with, nothing renamed.
    expect(await askOurGateway(state.gateway!, '{ post { first: comments(limit: 1) { id } summary } }')).toEqual({
      data: { post: { first: [{ id: 'c1' }], summary: 'latest: c1, c2, c3' } },
    });
    // A client's own name that happens to start like the aliases stays its own.
    expect(await askOurGateway(state.gateway!, '{ post { fsRequires_comments: comments(limit: 1) { id } comments(limit: 4) { id } summary } }')).toEqual({
      data: { post: { fsRequires_comments: [{ id: 'c1' }], comments: comments.slice(0, 4), summary: 'latest: c1, c2, c3' } },
    });
  });

  it('plain @apollo/gateway merges the two into one fetch of comments (remove the fix when this fails)', async () => {
    // The @requires got the client's one comment instead of its three.
    expect(await askPlainGateway(state.supergraphSdl, QUERY)).toEqual({ data: { post: { comments: [{ id: 'c1' }], summary: 'latest: c1' } } });
  });
});

describe('two @requires of one field with different arguments are refused', () => {
  const subgraphs = REQUIRES_CONFLICT;
  let running: Running[] = [];
  let supergraphSdl = '';
  beforeAll(async () => {
    running = await Promise.all(subgraphs.map(startSubgraph));
    supergraphSdl = supergraphOf(subgraphs, running);
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
  });

  it('by composition (compose, schema:check, schema:publish), naming both fields and where they are', () => {
    const result = compose(subgraphs.map((s, i) => ({ name: s.name, url: running[i].url, sdl: s.sdl })));
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ subgraph: 'labels', code: 'REQUIRES_ARGUMENT_CONFLICT' });
    expect(problems[0].message).toContain('price(currency: "USD") by Product.usd (subgraph labels), price(currency: "EUR") by Product.eur (subgraph labels)');
    expect(problems[0].locations.map((l) => l.line)).toEqual([5, 6]);
  });

  it('by the gateway, at start and at a reload, for a supergraph composed elsewhere', async () => {
    await expect(createGateway(testConfig('gateway'), { supergraphSdl, live: false })).rejects.toThrow(
      /REQUIRES_ARGUMENT_CONFLICT: Product\.price is required/,
    );
    expect(() => validateSupergraph(supergraphSdl)).toThrow(/REQUIRES_ARGUMENT_CONFLICT/);
  });

  it('plain @apollo/gateway gives both the same price (remove the refusal when this fails)', async () => {
    expect(await askPlainGateway(supergraphSdl, '{ product { usd eur } }')).toEqual({ data: { product: { usd: '$90', eur: '€90' } } });
  });
});

describe('subscriptions get the same fixes', () => {
  const LIVE = `extend schema
      @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
      @link(url: "https://fitsync.dev/live/v0.1", import: ["@liveTopic"])
      @composeDirective(name: "@liveTopic")
    directive @liveTopic(name: String!, recipients: [String!]!) on FIELD_DEFINITION`;
  /** A subgraph whose subscription field hands out the entity `id` (as a live message would name it). */
  const live = (type: string, field: string): Subgraph => ({
    name: 'live',
    sdl: `${LIVE}
      type Subscription { ${field}: ${type} @liveTopic(name: "${field}", recipients: ["user_id"]) }
      type ${type} @key(fields: "id", resolvable: false) { id: ID! }`,
    resolvers: { Subscription: { [field]: { resolve: () => ({ id: 'p1' }) } } },
  });
  /** The gateway's subscription executor over these subgraphs, each served in-process. */
  function executor(subgraphs: Subgraph[]) {
    const composed = composeServices(subgraphs.map((s) => ({ name: s.name, url: 'http://127.0.0.1:9/graphql', typeDefs: parse(s.sdl) })));
    if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
    const services = Object.fromEntries(
      subgraphs.map((s) => [s.name, new LocalGraphQLDataSource(buildSubgraphSchema({ typeDefs: parse(s.sdl), resolvers: s.resolvers }))]),
    );
    return new SubscriptionExecutor(composed.supergraphSdl, () => services, [], createLogger('gateway', 'silent'));
  }
  const MESSAGE = { kind: 'broker', message: { topic: 'x', recipients: [], payload: {} } as unknown as LiveMessage } as const;
  const context = {} as GatewayContext;

  it('a @requires jump uses the resolvable key', async () => {
    const subscriptions = executor([...KEYS, live('Product', 'productChanged')]);
    const sub = subscriptions.prepare({ query: 'subscription { productChanged { id tax } }' }) as PreparedSubscription;
    expect(await subscriptions.run(sub, context, MESSAGE)).toEqual({ data: { productChanged: { id: 'p1', tax: 10 } } });
  });

  it("a field colliding with a @requires keeps the client's arguments, and its name", async () => {
    const subscriptions = executor([...REQUIRES_ARGUMENTS, live('Post', 'postChanged')]);
    const sub = subscriptions.prepare({ query: 'subscription { postChanged { comments(limit: 1) { id } summary } }' }) as PreparedSubscription;
    expect(await subscriptions.run(sub, context, MESSAGE)).toEqual({ data: { postChanged: { comments: [{ id: 'c1' }], summary: 'latest: c1, c2, c3' } } });
    // A reload plans the client's own document again.
    const adopted = executor([...REQUIRES_ARGUMENTS, live('Post', 'postChanged')]).adopt(sub) as PreparedSubscription;
    expect(print(adopted.document)).toBe(print(sub.document));
    expect(print(adopted.document)).not.toContain('fsRequires_');
  });
});
