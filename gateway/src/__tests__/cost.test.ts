import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_OPERATION_COST } from '@fitsync/service-kit';
import { Kind, buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CostCalculator, CostError } from '../cost.js';
import { checkCost } from '../request-rules.js';

const TEST_SDL = /* GraphQL */ `
  directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
  directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION

  type Query {
    me: User
    user(id: ID!): User @cost(weight: 3)
    users(first: Int = 10, last: Int): UserConnection! @listSize(slicingArguments: ["first", "last"], sizedFields: ["edges"], requireOneSlicingArgument: false)
    search(term: String!, first: Int = 5): [SearchResult!] @listSize(slicingArguments: ["first"])
    nodes: [Node!] @listSize(assumedSize: 4)
    anything: [User!]
    strict(first: Int, last: Int): [User!] @listSize(slicingArguments: ["first", "last"])
  }
  type Mutation {
    rename(input: RenameInput!, reason: String @cost(weight: 4)): User
    expensive: User @cost(weight: 30)
  }
  input RenameInput {
    name: String! @cost(weight: 2)
    nested: [RenameInput!]
  }
  interface Node {
    id: ID!
  }
  type User implements Node {
    id: ID!
    name: String!
    role: Role!
    friends(first: Int = 20): [User!] @listSize(slicingArguments: ["first"])
    posts(first: Int = 3): [Post!] @listSize(slicingArguments: ["first"])
    tags: [String!]
    avatar: Image
  }
  type Post implements Node {
    id: ID!
    title: String!
    comments(first: Int = 50): [Comment!] @listSize(slicingArguments: ["first"])
  }
  type Comment {
    text: String!
  }
  type Image @cost(weight: 7) {
    url: String!
  }
  type UserConnection {
    edges: [UserEdge!]!
    total: Int!
  }
  type UserEdge {
    node: User!
  }
  enum Role {
    ADMIN
    MEMBER
  }
  union SearchResult = User | Post
`;

const calc = new CostCalculator(buildSchema(TEST_SDL), undefined, { defaultListSize: 100, maxListSize: 100 });

function costOf(calculator: CostCalculator, query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const document = parse(query);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  )!;
  return calculator.estimate(document, operation, variables);
}
const cost = (query: string, variables?: Record<string, unknown>) => costOf(calc, query, variables);

describe('the cost calculator (IBM cost spec: @cost, @listSize)', () => {
  it('remembers the estimate of a document it has seen, per variables, and forgets it with its supergraph', () => {
    const document = parse('query($n: Int) { me { friends(first: $n) { id } } user(id: "1") { id } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    const calculator = new CostCalculator(buildSchema(TEST_SDL), undefined, { defaultListSize: 100, maxListSize: 100 });
    expect(calculator.estimate(document, operation, { n: 2 })).toBe(1 + 2 + 3);
    expect(calculator.estimate(document, operation, { n: 2 })).toBe(1 + 2 + 3);
    expect(calculator.estimate(document, operation, { n: 9 })).toBe(1 + 9 + 3);
    expect(calculator.estimate(document, operation, {})).toBe(1 + 20 + 3);
    for (let n = 0; n < 100; n++) expect(calculator.estimate(document, operation, { n })).toBe(1 + n + 3);
    expect(calculator.estimate(document, operation, { n: 2 })).toBe(1 + 2 + 3);
    // A reload builds a new calculator: the same nodes cost what the new supergraph says.
    const reloaded = new CostCalculator(
      buildSchema(TEST_SDL.replace('user(id: ID!): User @cost(weight: 3)', 'user(id: ID!): User @cost(weight: 11)')),
      undefined,
      {
        defaultListSize: 100,
        maxListSize: 100,
      },
    );
    expect(reloaded.estimate(document, operation, { n: 2 })).toBe(1 + 2 + 11);
    expect(calculator.estimate(document, operation, { n: 2 })).toBe(1 + 2 + 3);
  });

  it('refuses a field missing its slicing argument every time, not only the first', () => {
    const document = parse('{ strict { id } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(() => calc.estimate(document, operation)).toThrow(CostError);
    expect(() => calc.estimate(document, operation)).toThrow(CostError);
  });

  it('weighs objects 1 and scalars and enums 0; a @cost on the field or its type wins', () => {
    expect(cost('{ me { id name role tags } }')).toBe(1);
    expect(cost('{ user(id: "1") { id } }')).toBe(3);
    expect(cost('{ me { avatar { url } } }')).toBe(1 + 7);
    expect(cost('{ __typename me { __typename } }')).toBe(1);
  });

  it('multiplies a list by its first argument: literal, variable, the default, capped at the maximum', () => {
    // friends: each a User (1) with its posts (3 by default, each a Post: 1).
    expect(cost('{ me { friends(first: 2) { id } } }')).toBe(1 + 2);
    expect(cost('query($n: Int) { me { friends(first: $n) { id } } }', { n: 7 })).toBe(1 + 7);
    expect(cost('query($n: Int = 4) { me { friends(first: $n) { id } } }')).toBe(1 + 4);
    expect(cost('{ me { friends { id } } }')).toBe(1 + 20);
    expect(cost('query($n: Int) { me { friends(first: $n) { id } } }', { n: null })).toBe(1 + 20);
    expect(cost('{ me { friends(first: 100000) { id } } }')).toBe(1 + 100);
    expect(cost('{ me { friends(first: -5) { id } } }')).toBe(1);
    expect(cost('{ me { friends(first: 10) { posts { comments(first: 2) { text } } } } }')).toBe(1 + 10 * (1 + 3 * (1 + 2)));
  });

  it('nests lists multiplicatively: first: 100 three deep is a million', () => {
    expect(cost('{ me { friends(first: 100) { friends(first: 100) { friends(first: 100) { id } } } } }')).toBe(1 + 100 * (1 + 100 * (1 + 100)));
  });

  it('uses assumedSize, then the default size, for lists without a slicing argument', () => {
    expect(cost('{ nodes { id } }')).toBe(4);
    expect(cost('{ anything { id } }')).toBe(100);
  });

  it('hands the slicing argument to sizedFields (connections)', () => {
    expect(cost('{ users(first: 30) { total edges { node { id } } } }')).toBe(1 + 30 * (1 + 1));
    expect(cost('{ users { edges { node { id } } } }')).toBe(1 + 10 * 2);
    // Of two slicing arguments given, the larger counts.
    expect(cost('{ users(first: 3, last: 8) { edges { node { id } } } }')).toBe(1 + 8 * 2);
  });

  it('refuses a field whose @listSize requires exactly one slicing argument when it has none or two', () => {
    expect(cost('{ strict(first: 2) { id } }')).toBe(2);
    expect(() => cost('{ strict { id } }')).toThrow(CostError);
    expect(() => cost('{ strict(first: 2, last: 3) { id } }')).toThrow(/exactly one of its arguments first, last, got 2/);
  });

  it('counts each alias on its own', () => {
    expect(cost('{ a: me { friends { id } } b: me { friends { id } } }')).toBe(2 * 21);
    expect(cost('{ me { a: friends(first: 1) { id } b: friends(first: 2) { id } } }')).toBe(1 + 1 + 2);
  });

  it('merges fields by response key as execution does: fragments and repeats selecting the same list count it once', () => {
    const merged = cost(`
      { me { ...A ...B friends { id } } }
      fragment A on User { friends { name } }
      fragment B on User { friends { posts { title } } }
    `);
    expect(merged).toBe(1 + 20 * (1 + 3));
    // The same fragment spread twice is collected once.
    expect(cost('{ me { ...A ...A } } fragment A on User { friends { id } }')).toBe(1 + 20);
  });

  it('costs named fragments and inline fragments where their type condition applies', () => {
    expect(cost('{ me { ... on User { friends(first: 2) { id } } ... { posts(first: 1) { id } } } }')).toBe(1 + 2 + 1);
    expect(cost('{ me { ...F } } fragment F on Node { ... on User { friends(first: 3) { id } } }')).toBe(1 + 3);
  });

  it('costs a selection on an interface or union by its most expensive possible type', () => {
    // nodes: 4 of them; a Post with 50 comments (1 + 50) outweighs a User with 2 friends (1 + 2).
    expect(cost('{ nodes { id ... on User { friends(first: 2) { id } } ... on Post { comments { text } } } }')).toBe(4 * (1 + 50));
    expect(cost('{ nodes { id ... on User { friends(first: 90) { id } } ... on Post { comments(first: 1) { text } } } }')).toBe(4 * (1 + 90));
    // search (a union, 5 results): User with avatar (1 + 7), Post (1).
    expect(cost('{ search(term: "x") { ... on User { avatar { url } } ... on Post { title } } }')).toBe(5 * (1 + 7));
    expect(cost('{ search(term: "x", first: 2) { ...P } } fragment P on Post { comments(first: 10) { text } }')).toBe(2 * (1 + 10));
  });

  it('honours @skip and @include, literal or variable', () => {
    const q = 'query($big: Boolean!) { me { friends(first: 50) @include(if: $big) { id } posts(first: 1) @skip(if: $big) { id } } }';
    expect(cost(q, { big: true })).toBe(1 + 50);
    expect(cost(q, { big: false })).toBe(1 + 1);
    expect(cost('{ me { friends @skip(if: true) { id } } }')).toBe(1);
  });

  it('weighs a mutation field 10 unless it has a @cost, plus the weights of the arguments and input fields it is given', () => {
    expect(cost('mutation { rename(input: { name: "a" }) { id } }')).toBe(10 + 2);
    expect(cost('mutation { rename(input: { name: "a" }, reason: "typo") { id } }')).toBe(10 + 2 + 4);
    expect(cost('mutation($i: RenameInput!) { rename(input: $i) { id } }', { i: { name: 'a', nested: [{ name: 'b' }, { name: 'c' }] } })).toBe(10 + 2 * 3);
    expect(cost('mutation { expensive { friends(first: 2) { id } } }')).toBe(30 + 2);
    expect(cost('mutation { a: expensive { id } b: expensive { id } }')).toBe(60);
  });

  it('costs the operation named in a document with several', () => {
    const doc = 'query Small { me { id } } query Big { anything { id } }';
    expect(costOf(calc, doc, {}, 'Small')).toBe(1);
    expect(costOf(calc, doc, {}, 'Big')).toBe(100);
  });
});

describe('checkCost (the rule HTTP, SSE and WebSocket share)', () => {
  const check = (query: string, max: number) => {
    const document = parse(query);
    return checkCost({ calculator: () => calc, max, report: true }, document, document.definitions[0] as OperationDefinitionNode, {});
  };

  it('passes an operation at the budget, with its cost', () => {
    expect(check('{ me { friends(first: 9) { id } } }', 10)).toEqual({ estimated: 10 });
  });

  it('refuses one over it with COST_LIMIT_EXCEEDED (400), naming the cost and the budget', () => {
    const { estimated, error } = check('query Wide { me { friends(first: 10) { id } } }', 10);
    expect(estimated).toBe(11);
    expect(error?.message).toBe('Operation "Wide" costs 11, over the budget of 10 (MAX_OPERATION_COST)');
    expect(error?.extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', cost: { estimated: 11, max: 10 }, http: { status: 400 } });
  });

  it('refuses a field missing the slicing argument its @listSize requires with BAD_USER_INPUT (400)', () => {
    const { estimated, error } = check('{ strict { id } }', 1_000);
    expect(estimated).toBeUndefined();
    expect(error?.extensions).toEqual({ code: 'BAD_USER_INPUT', http: { status: 400 } });
  });
});

const supergraphSdl = readFileSync(new URL('../../../supergraph.graphql', import.meta.url), 'utf8');
const served = CostCalculator.fromSupergraph(supergraphSdl);
const dashboard = (name: string) => costOf(served, readFileSync(new URL(`../../../operations/${name}.graphql`, import.meta.url), 'utf8'));

describe('the served supergraph', () => {
  it('keeps the subgraphs’ @cost and @listSize (composition carries them as https://specs.apollo.dev/cost/v0.1)', () => {
    expect(supergraphSdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/cost\/v0\.1"/);
    // users(first:) sizes its edges; activePrograms is assumed at the subgraphs' cap of 100.
    expect(costOf(served, '{ users(first: 7) { edges { node { id } } } }')).toBe(1 + 7 * 2);
    expect(costOf(served, '{ me { activePrograms { id } } }')).toBe(1 + 100);
    expect(costOf(served, '{ me { progress { totalWorkouts } } }')).toBe(1 + 5);
    expect(costOf(served, 'mutation { login(email: "a", password: "b") { token } }')).toBe(50);
  });

  it('prices first: 100 lists nested three deep far over the default budget', () => {
    const estimated = costOf(served, '{ me { clients(first: 100) { programs(first: 100) { bookings(first: 100) { id } } } } }');
    expect(estimated).toBe(1 + 100 * (1 + 100 * (1 + 100)));
    expect(estimated).toBeGreaterThan(DEFAULT_MAX_OPERATION_COST * 100);
  });

  it('fits both dashboards in the default budget with at least twice their cost to spare', () => {
    for (const name of ['ClientDashboard', 'TrainerDashboard']) expect(dashboard(name) * 2, name).toBeLessThanOrEqual(DEFAULT_MAX_OPERATION_COST);
  });

  it('has the dashboard costs and the default budget the README prints', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const printed = Object.fromEntries([...readme.matchAll(/^\| `(\w+Dashboard)` +\| +([\d,]+) /gm)].map((m) => [m[1], Number(m[2].replace(/,/g, ''))]));
    expect(printed).toEqual({ ClientDashboard: dashboard('ClientDashboard'), TrainerDashboard: dashboard('TrainerDashboard') });
    // Table cells are padded to their column's width, which other rows decide.
    expect(readme).toMatch(new RegExp(`^\\| \`MAX_OPERATION_COST\` +\\| \`${DEFAULT_MAX_OPERATION_COST}\` `, 'm'));
  });
});
