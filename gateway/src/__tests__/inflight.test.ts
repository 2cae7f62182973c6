// Identical subgraph queries in flight at the same moment (many clients opening the same
// screen) are sent once and the answer shared; a mutation, another caller or another
// document is its own request; and the switch turns it off.
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createLogger, createServiceCredentials } from '@fitsync/service-kit';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { SubgraphDataSource } from '../datasource.js';

const log = createLogger('gateway', 'silent');

/** A subgraph whose answers wait until the test lets them go, counting what it was sent. */
function heldSubgraph(deduplicate?: boolean) {
  const sent: string[] = [];
  const held: (() => void)[] = [];
  const deduplicated: string[] = [];
  const source = new SubgraphDataSource({
    name: 'users',
    url: 'http://users.invalid/graphql',
    credentials: createServiceCredentials('gateway', 'a-test-service-secret-0123456789'),
    log,
    deduplicate,
    onDeduplicated: (name) => deduplicated.push(name),
    fetcher: async (_url, init) => {
      const body = String(init?.body);
      sent.push(body);
      await new Promise<void>((resolve) => held.push(resolve));
      return new Response(JSON.stringify({ data: { me: { id: 'u-1', name: 'Ann', nth: sent.length } } }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    },
  });
  /** Lets every held answer go once `n` requests have arrived. */
  const release = async (n: number) => {
    await expect.poll(() => sent.length).toBe(n);
    for (const go of held.splice(0)) go();
  };
  return { source, sent, release, deduplicated };
}

const ask = (source: SubgraphDataSource, query: string, authorization = 'Bearer token-a', variables: Record<string, unknown> = {}) =>
  source.process({
    kind: 'incoming operation',
    request: { query, variables },
    context: { correlationId: `c-${Math.random()}`, viewer: null, authorization, log },
    incomingRequestContext: {},
  } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);

const ME = 'query Dashboard__users__0{me{id name nth}}';

describe('inflight deduplication', () => {
  it('sends identical queries of one caller once, and gives each its own copy of the answer', async () => {
    const { source, sent, release, deduplicated } = heldSubgraph();
    const answers = Promise.all([ask(source, ME), ask(source, ME), ask(source, ME)]);
    await release(1);
    const [a, b, c] = await answers;
    expect(sent).toHaveLength(1);
    expect(deduplicated).toEqual(['users', 'users']);
    expect(a.data).toEqual({ me: { id: 'u-1', name: 'Ann', nth: 1 } });
    expect(b.data).toEqual(a.data);
    expect(c.data).toEqual(a.data);
    // copies: the gateway merges later fetches into these objects
    (b.data!.me as Record<string, unknown>).extra = true;
    expect(a.data!.me).not.toHaveProperty('extra');
    // once answered, the next one is sent again
    const later = ask(source, ME);
    await release(2);
    expect((await later).data).toEqual({ me: { id: 'u-1', name: 'Ann', nth: 2 } });
  });

  it.each([
    ['another caller', [ME, 'Bearer token-a'], [ME, 'Bearer token-b']],
    ['other variables', [ME, 'Bearer token-a', { first: 1 }], [ME, 'Bearer token-a', { first: 2 }]],
    ['another document', [ME, 'Bearer token-a'], ['query Dashboard__users__1{me{id}}', 'Bearer token-a']],
    ['a mutation', ['mutation M__users__0{markAllRead}', 'Bearer token-a'], ['mutation M__users__0{markAllRead}', 'Bearer token-a']],
  ] as [string, Parameters<typeof ask> extends [unknown, ...infer R] ? R : never, Parameters<typeof ask> extends [unknown, ...infer R] ? R : never][])(
    'sends %s as its own request',
    async (_, first, second) => {
      const { source, sent, release, deduplicated } = heldSubgraph();
      const answers = Promise.all([ask(source, ...first), ask(source, ...second)]);
      await release(2);
      await answers;
      expect(sent).toHaveLength(2);
      expect(deduplicated).toEqual([]);
    },
  );

  it('is off with the switch', async () => {
    const { source, sent, release } = heldSubgraph(false);
    const answers = Promise.all([ask(source, ME), ask(source, ME)]);
    await release(2);
    await answers;
    expect(sent).toHaveLength(2);
  });
});
