import { readdirSync, readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { requiresConflicts, requiredFields } from '@fitsync/composition';
import { GraphQLError, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { emptyPlanError, RequiresAliases, resolvableKeysFirst, restoreNames } from '../planner-fixes/index.js';

/** The pieces of gateway/src/planner-fixes/ on their own; conformance.test.ts runs them through gateways. */

const OWN_SUPERGRAPH = readFileSync(new URL('../../../supergraph.graphql', import.meta.url), 'utf8');
const OPERATIONS = new URL('../../../operations/', import.meta.url);
const FEDERATION = '@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@shareable"])';

function supergraph(subgraphs: Record<string, string>): string {
  const result = composeServices(
    Object.entries(subgraphs).map(([name, sdl]) => ({ name, url: `http://${name}.invalid/graphql`, typeDefs: parse(`extend schema ${FEDERATION}\n${sdl}`) })),
  );
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

const joinTypes = (sdl: string, type: string) =>
  (
    parse(sdl).definitions.find((d) => 'name' in d && d.name?.value === type && 'directives' in d) as { directives: readonly { name: { value: string } }[] }
  ).directives
    .filter((d) => d.name.value.endsWith('__type'))
    .map((d) => print(d as never));

describe('resolvableKeysFirst', () => {
  const KEYS = supergraph({
    a: 'type Query { p: P } type P @key(fields: "id") @key(fields: "sku") { id: ID! sku: String! @shareable }',
    b: 'type P @key(fields: "sku", resolvable: false) @key(fields: "id") { id: ID! sku: String! @shareable }',
  });

  it("moves a subgraph's resolvable keys before its others, and leaves the other subgraphs' in place", () => {
    expect(joinTypes(KEYS, 'P')).toEqual([
      '@join__type(graph: A, key: "id")',
      '@join__type(graph: A, key: "sku")',
      '@join__type(graph: B, key: "sku", resolvable: false)',
      '@join__type(graph: B, key: "id")',
    ]);
    expect(joinTypes(resolvableKeysFirst(KEYS), 'P')).toEqual([
      '@join__type(graph: A, key: "id")',
      '@join__type(graph: A, key: "sku")',
      '@join__type(graph: B, key: "id")',
      '@join__type(graph: B, key: "sku", resolvable: false)',
    ]);
  });

  it('follows a join spec imported under another name', () => {
    const renamed = KEYS.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/join\/v0\.\d")/, '$1, as: "j"').replace(/\bjoin__/g, 'j__');
    expect(renamed).toContain('as: "j"');
    expect(joinTypes(resolvableKeysFirst(renamed), 'P').slice(2)).toEqual([
      '@j__type(graph: B, key: "id")',
      '@j__type(graph: B, key: "sku", resolvable: false)',
    ]);
  });

  it('hands back the very supergraph when nothing is out of order (ours)', () => {
    expect(OWN_SUPERGRAPH).toContain('resolvable: false');
    expect(resolvableKeysFirst(OWN_SUPERGRAPH)).toBe(OWN_SUPERGRAPH);
  });
});

describe('requiresConflicts', () => {
  const posts =
    'type Query { a: Author } type Post { id: ID! @shareable } type Author @key(fields: "id") { id: ID! posts(first: Int!, after: String): [Post!]! }';

  it('finds fields required with different arguments at any depth, naming the subgraph', () => {
    const sdl = supergraph({
      a: `${posts} type Book @key(fields: "id") { id: ID! author: Author }`,
      b: `type Post { id: ID! @shareable } type Author @key(fields: "id") { id: ID! posts(first: Int!, after: String): [Post!]! @external }
          type Book @key(fields: "id") { id: ID! author: Author @external
            x: Int @requires(fields: "author { posts(first: 2) { id } }")
            y: Int @requires(fields: "author { posts(first: 3) { id } }") }`,
    });
    expect(requiredFields(sdl).map((r) => [r.type, r.field, r.graph, r.path.join('.'), r.selection])).toEqual([
      ['Book', 'x', 'b', 'author', 'author'],
      ['Book', 'x', 'b', 'author.posts', 'posts(first: 2)'],
      ['Book', 'x', 'b', 'author.posts.id', 'id'],
      ['Book', 'y', 'b', 'author', 'author'],
      ['Book', 'y', 'b', 'author.posts', 'posts(first: 3)'],
      ['Book', 'y', 'b', 'author.posts.id', 'id'],
    ]);
    expect(requiresConflicts(sdl).map((c) => c.message.split('. ')[0])).toEqual([
      'Book.author.posts is required with different arguments: posts(first: 2) by Book.x (subgraph b), posts(first: 3) by Book.y (subgraph b)',
    ]);
  });

  it('takes the same arguments in another order for the same field, and our own supergraph has none', () => {
    const sdl = supergraph({
      a: posts,
      b: `type Post { id: ID! @shareable } type Author @key(fields: "id") { id: ID! posts(first: Int!, after: String): [Post!]! @external
            x: Int @requires(fields: "posts(first: 2, after: \\"p\\") { id }")
            y: Int @requires(fields: "posts(after: \\"p\\", first: 2) { id }") }`,
    });
    expect(requiresConflicts(sdl)).toEqual([]);
    expect(requiresConflicts(OWN_SUPERGRAPH)).toEqual([]);
  });
});

describe('RequiresAliases', () => {
  const sdl = supergraph({
    a: 'type Query { post: Post } type C { id: ID! @shareable } type Post @key(fields: "id") { id: ID! comments(limit: Int): [C!]! title: String }',
    b: `type C { id: ID! @shareable } type Post @key(fields: "id") { id: ID! comments(limit: Int): [C!]! @external title: String @external
          summary: String @requires(fields: "comments(limit: 3) { id } title") }`,
  });
  const aliases = new RequiresAliases(sdl);

  it('aliases a colliding field everywhere it appears, and leaves identical selections alone', () => {
    const document = parse('query Q($l: Int) { post { title comments(limit: $l) { id } ...F } } fragment F on Post { comments(limit: $l) { id } }');
    const rewritten = aliases.rewrite(document)!;
    expect(print(rewritten.document)).toBe(
      print(
        parse(
          'query Q($l: Int) { post { title fsRequires_comments: comments(limit: $l) { id } ...F } } fragment F on Post { fsRequires_comments: comments(limit: $l) { id } }',
        ),
      ),
    );
    expect([...rewritten.renames]).toEqual([['fsRequires_comments', 'comments']]);
    // The same parsed document (Apollo Server's document cache) is rewritten once.
    expect(aliases.rewrite(document)).toBe(rewritten);
    expect(aliases.rewrite(parse('{ post { title summary } }'))).toBeUndefined();
  });

  it('aliases a client alias that takes the name a @requires reads', () => {
    expect([...aliases.rewrite(parse('{ post { title: id } }'))!.renames]).toEqual([['fsRequires_title', 'title']]);
  });

  it('names data keys and error paths back, in place', () => {
    const result = restoreNames(
      {
        data: { post: { a: 1, fsRequires_comments: [{ id: 'c1', fsRequires_comments: null }], z: 2 } },
        errors: [new GraphQLError('gone', { path: ['post', 'fsRequires_comments', 0, 'id'] })],
      },
      new Map([['fsRequires_comments', 'comments']]),
    );
    expect(JSON.stringify(result.data)).toBe('{"post":{"a":1,"comments":[{"id":"c1","comments":null}],"z":2}}');
    expect(result.errors[0].path).toEqual(['post', 'comments', 0, 'id']);
  });

  it("leaves our own dashboards' documents as they are", () => {
    const own = new RequiresAliases(OWN_SUPERGRAPH);
    const documents = readdirSync(OPERATIONS).filter((f) => f.endsWith('.graphql'));
    expect(documents.length).toBeGreaterThan(0);
    for (const file of documents) expect(own.rewrite(parse(readFileSync(new URL(file, OPERATIONS), 'utf8'))), file).toBeUndefined();
  });
});

describe('emptyPlanError', () => {
  const EMPTY = { node: undefined };
  const document = parse('query Q($on: Boolean!) { __typename a @include(if: $on) { b } ...F } fragment F on Query { c @skip(if: true) }');

  it('refuses an empty plan for fields the operation selects with its variables', () => {
    const error = emptyPlanError(EMPTY, document, 'Q', { on: true })!;
    expect(error.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'EMPTY_QUERY_PLAN' });
    expect(error.message).toMatch(/^No subgraph of the supergraph served now can resolve Query\.a as selected/);
  });

  it('lets through an empty plan that has nothing to fetch, and any plan with a fetch', () => {
    expect(emptyPlanError(EMPTY, document, 'Q', { on: false })).toBeUndefined();
    expect(emptyPlanError(EMPTY, parse('{ __schema { queryType { name } } }'), undefined, {})).toBeUndefined();
    expect(emptyPlanError({ node: { kind: 'Fetch' } as never }, document, 'Q', { on: true })).toBeUndefined();
  });
});
