import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createLogger, createServiceCredentials } from '@fitsync/service-kit';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { SubgraphDataSource } from '../datasource.js';
import { dedupeRepresentations, expandEntities } from '../representations.js';

const user = (id: string, trainerIds: string[] = []) => ({ __typename: 'User', id, trainerIds });

describe('dedupeRepresentations', () => {
  it('keeps the first of each distinct representation and where every original went', () => {
    const reps = [user('a'), user('b'), user('a'), user('c'), user('b'), user('a')];
    expect(dedupeRepresentations(reps)).toEqual({ unique: [user('a'), user('b'), user('c')], positions: [0, 1, 0, 2, 1, 0] });
  });

  it('treats representations that differ in any field as different entities', () => {
    expect(dedupeRepresentations([user('a', ['t1']), user('a', ['t2'])])).toBeUndefined();
  });

  it('leaves lists without repeats, single representations and non-lists alone', () => {
    expect(dedupeRepresentations([user('a'), user('b')])).toBeUndefined();
    expect(dedupeRepresentations([user('a')])).toBeUndefined();
    expect(dedupeRepresentations(undefined)).toBeUndefined();
  });
});

describe('expandEntities', () => {
  const deduped = dedupeRepresentations([user('a'), user('b'), user('a'), user('a')])!;

  it('puts each answer at every position that asked for it, each position its own object', () => {
    const out = expandEntities(
      {
        data: {
          _entities: [
            { name: 'Ann', profile: { level: 1 } },
            { name: 'Bob', profile: null },
          ],
        },
      },
      deduped,
    );
    const entities = out.data._entities as { name: string; profile: unknown }[];
    expect(entities.map((e) => e.name)).toEqual(['Ann', 'Bob', 'Ann', 'Ann']);
    expect(entities[2]).toEqual(entities[0]);
    // The gateway deep-merges later fetches into these objects: sharing one would leak between positions.
    expect(entities[2]).not.toBe(entities[0]);
    expect(entities[2].profile).not.toBe(entities[0].profile);
  });

  it('repeats an error about one entity at every position of that entity, and keeps other errors as they are', () => {
    const out = expandEntities(
      {
        data: { _entities: [null, { name: 'Bob' }] },
        errors: [
          { message: 'no access to a', path: ['_entities', 0, 'name'], extensions: { code: 'FORBIDDEN' } },
          { message: 'b is slow', path: ['_entities', 1] },
          { message: 'whole request' },
        ],
      },
      deduped,
    );
    expect(out.data._entities).toEqual([null, { name: 'Bob' }, null, null]);
    expect(out.errors.map((e) => [e.message, e.path])).toEqual([
      ['no access to a', ['_entities', 0, 'name']],
      ['no access to a', ['_entities', 2, 'name']],
      ['no access to a', ['_entities', 3, 'name']],
      ['b is slow', ['_entities', 1]],
      ['whole request', undefined],
    ]);
    expect(out.errors[1].extensions).toEqual({ code: 'FORBIDDEN' });
  });

  it('passes an answer without entities (the subgraph failed the whole fetch) through with its errors remapped', () => {
    const out = expandEntities({ data: null, errors: [{ message: 'down', path: ['_entities', 1] }] }, deduped);
    expect(out.data).toBeNull();
    expect(out.errors).toEqual([{ message: 'down', path: ['_entities', 1] }]);
  });
});

describe('SubgraphDataSource entity fetches', () => {
  const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{name}}}';

  function dataSource() {
    const sent: unknown[][] = [];
    const names: Record<string, string> = { a: 'Ann', b: 'Bob' };
    const source = new SubgraphDataSource({
      name: 'users',
      url: 'http://users.invalid/graphql',
      credentials: createServiceCredentials('gateway', 'a-test-service-secret-0123456789'),
      log: createLogger('gateway', 'silent'),
      // Answers like a users subgraph would: a name per known id, an error for an unknown one.
      fetcher: async (_url, init) => {
        const { representations } = JSON.parse(String(init?.body)).variables as { representations: { id: string }[] };
        sent.push(representations);
        const errors = representations.flatMap((r, i) =>
          names[r.id] ? [] : [{ message: `no user ${r.id}`, path: ['_entities', i], extensions: { code: 'NOT_FOUND' } }],
        );
        const body = JSON.stringify({
          data: { _entities: representations.map((r) => (names[r.id] ? { name: names[r.id] } : null)) },
          ...(errors.length ? { errors } : {}),
        });
        return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    return { source, sent };
  }

  const fetchEntities = (source: SubgraphDataSource, ids: string[]) =>
    source.process({
      kind: 'incoming operation', // GraphQLDataSourceRequestKind is a type-only export of @apollo/gateway's ESM entry
      request: { query: ENTITIES, variables: { representations: ids.map((id) => user(id)) } },
      context: { correlationId: 'c-1', viewer: null, log: createLogger('gateway', 'silent') },
      incomingRequestContext: {},
    } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);

  it('sends each distinct representation once and answers every original position', async () => {
    const { source, sent } = dataSource();
    const result = await fetchEntities(source, ['a', 'b', 'a', 'b', 'a']);
    expect(sent).toEqual([[user('a'), user('b')]]);
    expect(result.data?._entities).toEqual([{ name: 'Ann' }, { name: 'Bob' }, { name: 'Ann' }, { name: 'Bob' }, { name: 'Ann' }]);
    expect(result.errors).toBeUndefined();
  });

  it("lands the subgraph's errors at the original positions", async () => {
    const { source, sent } = dataSource();
    const result = await fetchEntities(source, ['x', 'a', 'x', 'b']);
    expect(sent).toEqual([[user('x'), user('a'), user('b')]]);
    expect(result.data?._entities).toEqual([null, { name: 'Ann' }, null, { name: 'Bob' }]);
    expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['_entities', 0], 'NOT_FOUND'],
      [['_entities', 2], 'NOT_FOUND'],
    ]);
  });

  it('sends a fetch without repeats as it is', async () => {
    const { source, sent } = dataSource();
    await fetchEntities(source, ['a', 'b']);
    expect(sent).toEqual([[user('a'), user('b')]]);
  });
});
