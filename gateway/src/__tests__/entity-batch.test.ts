import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createLogger, createServiceCredentials } from '@fitsync/service-kit';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { SubgraphDataSource } from '../datasource.js';
import { entitySelection, mergeEntityFetches, splitMergedResult } from '../entity-batch.js';

const NAMES = 'query Dash__users__4($representations:[_Any!]!){_entities(representations:$representations){...on User{name}}}';
const PROFILES = 'query Dash__users__5($representations:[_Any!]!){_entities(representations:$representations){...on User{clientProfile{fitnessLevel}}}}';
const user = (id: string) => ({ __typename: 'User', id });

describe('entitySelection', () => {
  it("finds the selection of the query planner's entity fetch", () => {
    expect(entitySelection(NAMES, { representations: [] })).toBe('{...on User{name}}');
  });

  it('leaves alone fetches with other variables, fragments, or that are not entity fetches', () => {
    expect(entitySelection(NAMES, { representations: [], first: 5 })).toBeUndefined();
    expect(entitySelection('query($representations:[_Any!]!){_entities(representations:$representations){...F}} fragment F on User{name}', { representations: [] })).toBeUndefined();
    expect(entitySelection('query Dash__users__0{me{name}}', {})).toBeUndefined();
  });
});

describe('mergeEntityFetches and splitMergedResult', () => {
  it('builds one valid operation with an aliased _entities field per fetch', () => {
    const merged = mergeEntityFetches(
      [
        { selection: '{...on User{name}}', representations: [user('a')] },
        { selection: '{...on User{clientProfile{fitnessLevel}}}', representations: [user('b'), user('c')] },
      ],
      'Dash__users__4',
    );
    expect(merged.operationName).toBe('Dash__users__4');
    expect(merged.variables).toEqual({ r0: [user('a')], r1: [user('b'), user('c')] });
    const schema = buildSchema(`scalar _Any union _Entity = User type ClientProfile { fitnessLevel: String }
      type User { id: ID! name: String clientProfile: ClientProfile } type Query { _entities(representations: [_Any!]!): [_Entity]! }`);
    expect(validate(schema, parse(merged.query))).toEqual([]);
  });

  it("gives each fetch its own entities and errors, with paths back under _entities, and pathless errors to all", () => {
    const parts = splitMergedResult(
      {
        data: { _e0: [{ name: 'Ann' }], _e1: [null, { clientProfile: null }] },
        errors: [
          { message: 'no b', path: ['_e1', 0, 'clientProfile'], extensions: { code: 'FORBIDDEN' } },
          { message: 'slow' },
        ],
      },
      2,
    );
    expect(parts[0]).toEqual({ data: { _entities: [{ name: 'Ann' }] }, errors: [{ message: 'slow' }] });
    expect(parts[1]).toEqual({
      data: { _entities: [null, { clientProfile: null }] },
      errors: [{ message: 'no b', path: ['_entities', 0, 'clientProfile'], extensions: { code: 'FORBIDDEN' } }, { message: 'slow' }],
    });
  });
});

describe('SubgraphDataSource merges the entity fetches one operation starts together', () => {
  const log = createLogger('gateway', 'silent');
  const people: Record<string, { name: string; clientProfile: { fitnessLevel: string } | null }> = {
    a: { name: 'Ann', clientProfile: { fitnessLevel: 'ADVANCED' } },
    b: { name: 'Bob', clientProfile: null },
  };

  /** Answers merged and single entity requests like a users subgraph: aliases `_e<i>` over variables `r<i>`. */
  function dataSource(opts: { down?: boolean } = {}) {
    const sent: { query: string; variables: Record<string, { id: string }[]> }[] = [];
    const source = new SubgraphDataSource({
      name: 'users',
      url: 'http://users.invalid/graphql',
      credentials: createServiceCredentials('gateway', 'a-test-service-secret-0123456789'),
      log,
      fetcher: async (_url, init) => {
        const body = JSON.parse(String(init?.body)) as (typeof sent)[number];
        sent.push(body);
        if (opts.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        const data: Record<string, unknown> = {};
        const errors: unknown[] = [];
        const fields = body.query.includes('_e0:') ? Object.keys(body.variables).map((v) => [`_e${v.slice(1)}`, v]) : [['_entities', 'representations']];
        for (const [field, variable] of fields) {
          data[field] = body.variables[variable].map((r, i) => {
            if (!people[r.id]) {
              errors.push({ message: `no user ${r.id}`, path: [field, i], extensions: { code: 'NOT_FOUND' } });
              return null;
            }
            return people[r.id];
          });
        }
        return new Response(JSON.stringify({ data, ...(errors.length ? { errors } : {}) }), { headers: { 'content-type': 'application/json' } }) as never;
      },
    });
    return { source, sent };
  }

  const fetch = (source: SubgraphDataSource, context: object, query: string, ids: string[]) =>
    source.process({
      kind: 'incoming operation', // GraphQLDataSourceRequestKind is a type-only export of @apollo/gateway's ESM entry
      request: { query, operationName: /query (\w+)/.exec(query)![1], variables: { representations: ids.map(user) } },
      context,
      incomingRequestContext: {},
    } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
  const context = () => ({ correlationId: 'c-1', viewer: null, log });

  it('sends one request for fetches started together and gives each its own answer', async () => {
    const { source, sent } = dataSource();
    const ctx = context();
    const [names, profiles] = await Promise.all([fetch(source, ctx, NAMES, ['a', 'b', 'a']), fetch(source, ctx, PROFILES, ['b', 'x'])]);
    expect(sent).toHaveLength(1);
    // Each fetch's repeats are removed before merging.
    expect(sent[0].variables).toEqual({ r0: [user('a'), user('b')], r1: [user('b'), user('x')] });
    expect(names.data?._entities).toEqual([people.a, people.b, people.a]);
    expect(names.errors).toBeUndefined();
    expect(profiles.data?._entities).toEqual([people.b, null]);
    expect(profiles.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 1], 'NOT_FOUND']]);
  });

  it('keeps the fetches of different operations apart, and a lone fetch as the planner wrote it', async () => {
    const { source, sent } = dataSource();
    await Promise.all([fetch(source, context(), NAMES, ['a']), fetch(source, context(), PROFILES, ['b'])]);
    expect(sent).toHaveLength(2);
    expect(sent.map((s) => s.query).sort()).toEqual([NAMES, PROFILES].sort());
  });

  it('gives every merged fetch SERVICE_UNAVAILABLE when the subgraph cannot be reached', async () => {
    const { source, sent } = dataSource({ down: true });
    const ctx = context();
    const results = await Promise.all([fetch(source, ctx, NAMES, ['a']), fetch(source, ctx, PROFILES, ['b'])]);
    expect(sent).toHaveLength(1);
    for (const r of results) expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
  });
});
