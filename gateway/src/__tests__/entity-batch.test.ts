import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { createLogger, createServiceCredentials } from '@fitsync/service-kit';
import { buildSchema, parse, print, stripIgnoredCharacters, validate, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { SubgraphDataSource } from '../datasource.js';
import { entitySelection, mergeEntityFetches, splitMergedResult } from '../entity-batch.js';

const NAMES = 'query Dash__users__4($representations:[_Any!]!){_entities(representations:$representations){...on User{name}}}';
const PROFILES = 'query Dash__users__5($representations:[_Any!]!){_entities(representations:$representations){...on User{clientProfile{fitnessLevel}}}}';
const user = (id: string) => ({ __typename: 'User', id });
/** A selection set as the planner writes it, `{...on User{name}}`, and back. */
const selectionOf = (text: string) => (parse(text).definitions[0] as OperationDefinitionNode).selectionSet;
const compact = (selection: SelectionSetNode | undefined) => selection && stripIgnoredCharacters(print(selection));

describe('entitySelection', () => {
  it("finds the selection of the query planner's entity fetch", () => {
    expect(compact(entitySelection(NAMES, { representations: [] }))).toBe('{...on User{name}}');
  });

  it('reads the operation as GraphQL, not as text: layout, commas and strings that look like syntax do not matter', () => {
    const spaced = `query Dash__users__4 (
      $representations: [_Any!]!
    ) {
      _entities(representations: $representations) { ... on User { name, bio(format: "fragment F on User") } }
    }`;
    expect(compact(entitySelection(spaced, { representations: [] }))).toBe('{...on User{name bio(format:"fragment F on User")}}');
  });

  it('refuses what cannot move into a merged operation: an alias, a selection reading a variable, other variables, mutations', () => {
    const refused = [
      'query($representations:[_Any!]!){e:_entities(representations:$representations){...on User{name}}}',
      'query($representations:[_Any!]!){_entities(representations:$representations){...on User{name @include(if:$representations)}}}',
      'query($representations:[_Any!]!,$first:Int){_entities(representations:$representations){...on User{name}}}',
      'query($representations:[_Any]){_entities(representations:$representations){...on User{name}}}',
      'mutation($representations:[_Any!]!){_entities(representations:$representations){...on User{name}}}',
      'query($representations:[_Any!]!){_entities(representations:$representations){...on User{name}} me{id}}',
      'query($representations:[_Any!]!){_entities(representations:$representations){...on User{name}}',
    ];
    for (const query of refused) expect(entitySelection(query, { representations: [] }), query).toBeUndefined();
  });

  it('leaves alone fetches with other variables, fragments, or that are not entity fetches', () => {
    expect(entitySelection(NAMES, { representations: [], first: 5 })).toBeUndefined();
    expect(
      entitySelection('query($representations:[_Any!]!){_entities(representations:$representations){...F}} fragment F on User{name}', { representations: [] }),
    ).toBeUndefined();
    expect(entitySelection('query Dash__users__0{me{name}}', {})).toBeUndefined();
  });
});

describe('mergeEntityFetches and splitMergedResult', () => {
  it('builds one valid operation with an aliased _entities field per fetch', () => {
    const merged = mergeEntityFetches(
      [
        { selection: selectionOf('{...on User{name}}'), representations: [user('a')] },
        { selection: selectionOf('{...on User{clientProfile{fitnessLevel}}}'), representations: [user('b'), user('c')] },
      ],
      'Dash__users__4',
    );
    expect(merged.operationName).toBe('Dash__users__4');
    expect(merged.variables).toEqual({ r0: [user('a')], r1: [user('b'), user('c')] });
    const schema = buildSchema(`scalar _Any union _Entity = User type ClientProfile { fitnessLevel: String }
      type User { id: ID! name: String clientProfile: ClientProfile } type Query { _entities(representations: [_Any!]!): [_Entity]! }`);
    expect(validate(schema, parse(merged.query))).toEqual([]);
    expect(stripIgnoredCharacters(merged.query)).toBe(
      'query Dash__users__4($r0:[_Any!]!$r1:[_Any!]!){_e0:_entities(representations:$r0){...on User{name}}_e1:_entities(representations:$r1){...on User{clientProfile{fitnessLevel}}}}',
    );
  });

  it('prints a combination of selections once, and gives each request its own representations and name', () => {
    const name = selectionOf('{...on User{name}}');
    const profile = selectionOf('{...on User{clientProfile{fitnessLevel}}}');
    const first = mergeEntityFetches(
      [
        { selection: name, representations: [user('a')] },
        { selection: profile, representations: [user('b')] },
      ],
      'Dash__users__4',
    );
    const again = mergeEntityFetches(
      [
        { selection: name, representations: [user('c'), user('d')] },
        { selection: profile, representations: [user('e')] },
      ],
      'Dash__users__4',
    );
    // The printed text is kept (the same string), the variables are this request's.
    expect(again.query).toBe(first.query);
    expect(again.variables).toEqual({ r0: [user('c'), user('d')], r1: [user('e')] });
    // Another order, another name or another selection is another operation.
    const swapped = mergeEntityFetches(
      [
        { selection: profile, representations: [user('e')] },
        { selection: name, representations: [user('c')] },
      ],
      'Dash__users__4',
    );
    expect(stripIgnoredCharacters(swapped.query)).toBe(
      'query Dash__users__4($r0:[_Any!]!$r1:[_Any!]!){_e0:_entities(representations:$r0){...on User{clientProfile{fitnessLevel}}}_e1:_entities(representations:$r1){...on User{name}}}',
    );
    const renamed = mergeEntityFetches(
      [
        { selection: name, representations: [user('a')] },
        { selection: profile, representations: [user('b')] },
      ],
      'Other__users__1',
    );
    expect(renamed.operationName).toBe('Other__users__1');
    expect(renamed.query).toMatch(/^query Other__users__1\(/);
  });

  it('gives each fetch its own entities and errors, with paths back under _entities, and pathless errors to all', () => {
    const parts = splitMergedResult(
      {
        data: { _e0: [{ name: 'Ann' }], _e1: [null, { clientProfile: null }] },
        errors: [{ message: 'no b', path: ['_e1', 0, 'clientProfile'], extensions: { code: 'FORBIDDEN' } }, { message: 'slow' }],
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
        return new Response(JSON.stringify({ data, ...(errors.length ? { errors } : {}) }), { headers: { 'content-type': 'application/json' } });
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
