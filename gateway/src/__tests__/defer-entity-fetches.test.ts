import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type FlattenNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import fc from 'fast-check';
import { OperationTypeNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deferEntityFetches } from '../planner-fixes/index.js';

/**
 * The plan rewrite of planner-fixes/defer-entity-fetches.ts on its own: on plans the query
 * planner makes for hand-built supergraphs and ours, on hand-built plans where a move would be
 * wrong, and on random plans (fast-check). tests/deferred-entity-fetches.test.ts runs it on the
 * platform and counts the requests that reach the subgraphs.
 */

const FEDERATION = '@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@shareable"])';

function planner(subgraphs: Record<string, string>) {
  const result = composeServices(
    Object.entries(subgraphs).map(([name, sdl]) => ({ name, url: `http://${name}.invalid/graphql`, typeDefs: parse(`extend schema ${FEDERATION}\n${sdl}`) })),
  );
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return fromSupergraph(result.supergraphSdl);
}

function fromSupergraph(sdl: string) {
  const supergraph = Supergraph.build(sdl);
  const qp = new QueryPlanner(supergraph);
  return (query: string) => qp.buildQueryPlan(operationFromDocument(supergraph.schema, parse(query)));
}

/** A plan's shape: `Seq[users, Par[users@me.friends.@, ...]]`. */
function shape(node: PlanNode | QueryPlan['node']): string {
  if (!node) return '';
  switch (node.kind) {
    case 'Fetch':
      return node.serviceName;
    case 'Flatten':
      return `${shape(node.node)}@${node.path.join('.')}`;
    case 'Sequence':
      return `Seq[${node.nodes.map(shape).join(', ')}]`;
    case 'Parallel':
      return `Par[${node.nodes.map(shape).join(', ')}]`;
    default:
      return node.kind;
  }
}

/** Four subgraphs around one user type: the rewrite's two rules, on plans the planner makes. */
const plan = planner({
  users: 'type Query { me: U } type U @key(fields: "id") { id: ID! name: String }',
  social: 'type U @key(fields: "id") { id: ID! friends: [U] tier: Int }',
  events: 'type U @key(fields: "id") { id: ID! tier: Int @external events: [E] @requires(fields: "tier") } type E { id: ID! host: U }',
  groups: 'type U @key(fields: "id") { id: ID! groups: [G] } type G { id: ID! admin: U }',
});

describe('deferEntityFetches on plans of the query planner', () => {
  it("moves an entity fetch into the later stage of a sibling Sequence that fetches from the same subgraph (the friends' names wait for the hosts')", () => {
    const planned = plan('{ me { friends { name } events { host { name } } } }');
    expect(shape(planned.node)).toBe('Seq[users, social@me, Par[users@me.friends.@, Seq[events@me, users@me.events.@.host]]]');
    expect(shape(deferEntityFetches(planned).node)).toBe('Seq[users, social@me, Seq[events@me, Par[users@me.events.@.host, users@me.friends.@]]]');
  });

  it('joins the last stages of two Sequences of a Parallel that end in fetches from the same subgraph', () => {
    const planned = plan('{ me { events { host { name } } groups { admin { name } } } }');
    expect(shape(planned.node)).toBe('Seq[users, Par[Seq[groups@me, users@me.groups.@.admin], Seq[social@me, events@me, users@me.events.@.host]]]');
    expect(shape(deferEntityFetches(planned).node)).toBe(
      'Seq[users, Seq[Par[groups@me, Seq[social@me, events@me]], Par[users@me.groups.@.admin, users@me.events.@.host]]]',
    );
  });

  it('hands back the very plan when nothing is to be gained (one stage per subgraph) and the plans of mutations', () => {
    const single = plan('{ me { friends { name } } }');
    expect(deferEntityFetches(single)).toBe(single);
    const mutations = planner({
      users: 'type Query { me: U } type Mutation { rename(name: String): U } type U @key(fields: "id") { id: ID! name: String }',
      social: 'type U @key(fields: "id") { id: ID! friends: [U] tier: Int }',
      events: 'type U @key(fields: "id") { id: ID! tier: Int @external events: [E] @requires(fields: "tier") } type E { id: ID! host: U }',
    });
    const mutation = mutations('mutation { rename(name: "x") { friends { name } events { host { name } } } }');
    expect(shape(mutation.node)).toContain('Par[users@rename.friends.@, Seq[events@rename, users@rename.events.@.host]]');
    expect(deferEntityFetches(mutation)).toBe(mutation);
  });

  it("rewrites our dashboards' plans so users is asked twice, not three times", () => {
    const ours = fromSupergraph(readFileSync(new URL('../../../supergraph.graphql', import.meta.url), 'utf8'));
    const operation = (name: string) => readFileSync(new URL(`../../../operations/${name}.graphql`, import.meta.url), 'utf8');
    const usersStages = (node: PlanNode | QueryPlan['node']) => (shape(node).match(/Par\[[^[\]]*users@/g) ?? []).length;
    for (const name of ['TrainerDashboard', 'ClientDashboard']) {
      const planned = ours(operation(name));
      const rewritten = deferEntityFetches(planned).node;
      // Every fetch is still there, once.
      expect(fetchesOf(rewritten).map(shape).sort()).toEqual(fetchesOf(planned.node).map(shape).sort());
      expect(shape(rewritten)).toMatch(/Seq\[schedule@me, Par\[(users@[^,\]]+(, )?){3,4}\]\]/);
      expect(usersStages(rewritten)).toBe(1);
    }
  });
});

const q = OperationTypeNode.QUERY;
/** An entity fetch at `path` reading `reads` of its objects and writing `writes` on them. */
function entity(service: string, path: string, reads: string[], writes: string[]): FlattenNode {
  const fetch: FetchNode = {
    kind: 'Fetch',
    serviceName: service,
    variableUsages: [],
    requires: [{ kind: 'InlineFragment', typeCondition: 'U', selections: ['__typename', 'id', ...reads].map((name) => ({ kind: 'Field', name })) }],
    operation: `query($representations:[_Any!]!){_entities(representations:$representations){...on U{${writes.join(' ')}}}}`,
    operationName: undefined,
    operationKind: q,
  };
  return { kind: 'Flatten', path: path.split('.'), node: fetch };
}
const root = (service: string, writes: string): FetchNode => ({
  kind: 'Fetch',
  serviceName: service,
  operation: `{${writes}}`,
  operationName: undefined,
  operationKind: q,
});
const seq = (...nodes: PlanNode[]): PlanNode => ({ kind: 'Sequence', nodes });
const par = (...nodes: PlanNode[]): PlanNode => ({ kind: 'Parallel', nodes });
const planOf = (node: PlanNode): QueryPlan => ({ kind: 'QueryPlan', node });

describe('deferEntityFetches leaves a fetch where moving it would be wrong', () => {
  const moved = entity('users', 'me.friends.@', [], ['name', 'score']);

  it('moves it when nothing in the Sequence it joins touches what it reads or writes', () => {
    const safe = planOf(
      seq(root('users', 'me{id friends{id}}'), par(moved, seq(entity('events', 'me', [], ['events']), entity('users', 'me.events.@.host', [], ['name'])))),
    );
    expect(shape(deferEntityFetches(safe).node)).toBe('Seq[users, Seq[events@me, Par[users@me.events.@.host, users@me.friends.@]]]');
  });

  it('not when a later fetch of the Sequence @requires a field it writes (it would read it after the move)', () => {
    const reader = entity('ranking', 'me.friends.@', ['score'], ['rank']);
    const unsafe = planOf(
      seq(
        root('users', 'me{id friends{id}}'),
        par(moved, seq(entity('events', 'me', [], ['events']), par(entity('users', 'me.events.@.host', [], ['name']), reader))),
      ),
    );
    expect(deferEntityFetches(unsafe)).toBe(unsafe);
  });

  it('not when a fetch of the Sequence reads, at a shorter path, a selection that reaches what it writes', () => {
    const reader: FlattenNode = entity('ranking', 'me', [], ['rank']);
    (reader.node as { requires: unknown }).requires = [
      { kind: 'InlineFragment', typeCondition: 'U', selections: [{ kind: 'Field', name: 'friends', selections: [{ kind: 'Field', name: 'score' }] }] },
    ];
    const unsafe = planOf(seq(root('users', 'me{id friends{id}}'), par(moved, seq(reader, entity('users', 'me.events.@.host', [], ['name'])))));
    expect(deferEntityFetches(unsafe)).toBe(unsafe);
  });

  it('not when a stage before the target writes what it reads (its inputs would change), or the objects it writes on', () => {
    const inputs = entity('social', 'me.friends.@', [], ['tier']);
    const readsTier = entity('users', 'me.friends.@', ['tier'], ['name']);
    const a = planOf(seq(root('users', 'me{id friends{id}}'), par(readsTier, seq(inputs, entity('users', 'me.events.@.host', [], ['name'])))));
    expect(deferEntityFetches(a)).toBe(a);
    const replacesFriends = entity('social', 'me', [], ['friends']);
    const b = planOf(seq(root('users', 'me{id friends{id}}'), par(moved, seq(replacesFriends, entity('users', 'me.events.@.host', [], ['name'])))));
    expect(deferEntityFetches(b)).toBe(b);
  });

  it('not when another fetch to the subgraph leaves at the same moment and cannot move (nothing would be saved)', () => {
    const plan = planOf(
      par(moved, seq(entity('users', 'me.x', [], ['a']), entity('events', 'me', [], ['events']), entity('users', 'me.events.@.host', [], ['name']))),
    );
    expect(deferEntityFetches(plan)).toBe(plan);
  });

  it('not for a fetch the rule cannot read: a fragment spread, rewrites, other variables', () => {
    const target = seq(entity('events', 'me', [], ['events']), entity('users', 'me.events.@.host', [], ['name']));
    const spread = entity('users', 'me.friends.@', [], ['name']);
    (spread.node as { operation: string }).operation =
      'query($representations:[_Any!]!){_entities(representations:$representations){...F}} fragment F on U{name}';
    const withVariable = entity('users', 'me.friends.@', [], ['name']);
    (withVariable.node as { variableUsages: string[] }).variableUsages = ['first'];
    for (const fetch of [spread, withVariable]) {
      const p = planOf(par(fetch, target));
      expect(deferEntityFetches(p), shape(p.node)).toBe(p);
    }
  });
});

// --- random plans -------------------------------------------------------------------------

type Leaf = FlattenNode & { node: FetchNode };
function fetchesOf(node: PlanNode | QueryPlan['node'] | undefined): PlanNode[] {
  if (!node) return [];
  if (node.kind === 'Flatten' && node.node.kind === 'Fetch') return [node];
  if (node.kind === 'Fetch') return [node];
  if (node.kind === 'Flatten') return fetchesOf(node.node);
  if (node.kind === 'Sequence' || node.kind === 'Parallel') return node.nodes.flatMap(fetchesOf);
  return [];
}

/** Pairs [a, b] of fetches where a finishes before b starts, by fetch object. */
function orderings(node: PlanNode): Set<string> {
  const ids = new Map<PlanNode, number>();
  fetchesOf(node).forEach((f, i) => ids.set(f, i));
  const out = new Set<string>();
  const walk = (n: PlanNode) => {
    if (n.kind === 'Sequence') {
      n.nodes.forEach((stage, i) => {
        for (const later of n.nodes.slice(i + 1)) for (const a of fetchesOf(stage)) for (const b of fetchesOf(later)) out.add(`${ids.get(a)}<${ids.get(b)}`);
      });
    }
    if (n.kind === 'Sequence' || n.kind === 'Parallel') n.nodes.forEach(walk);
  };
  walk(node);
  return out;
}

/**
 * The cells of the response a fetch touches, written independently of the rule: each written
 * field and everything under it, each field its requires reads (with the objects it descends
 * through). Two fetches depend on each other when one's written cell is, or contains, a cell
 * the other reads or writes.
 */
function cells(leaf: Leaf) {
  const base = leaf.path.filter((p) => p !== '@').join('.');
  const writes = [...leaf.node.operation.matchAll(/\.\.\.on U\{([^}]*)\}/g)].flatMap((m) => m[1].split(' ')).map((f) => `${base}.${f}`);
  const reads = (leaf.node.requires ?? [])
    .flatMap((s) => (s.kind === 'InlineFragment' ? s.selections : [s]))
    .map((s) => `${base}.${(s as { name: string }).name}`);
  return { writes, reads: [...reads, base] };
}
const covers = (outer: string, inner: string) => inner === outer || inner.startsWith(`${outer}.`);
function dependent(a: Leaf, b: Leaf) {
  const x = cells(a);
  const y = cells(b);
  return x.writes.some((w) => [...y.reads, ...y.writes].some((c) => covers(w, c))) || y.writes.some((w) => [...x.reads, ...x.writes].some((c) => covers(w, c)));
}

const PATHS = ['me', 'me.friends.@', 'me.events.@.host', 'me.groups.@', 'me.friends.@.best'];
const FIELDS = ['name', 'tier', 'friends', 'events', 'best', 'score'];
const leafArb = fc
  .record({
    service: fc.constantFrom('users', 'social', 'events'),
    path: fc.constantFrom(...PATHS),
    reads: fc.subarray(FIELDS, { maxLength: 2 }),
    writes: fc.subarray(FIELDS, { minLength: 1, maxLength: 2 }),
  })
  .map(({ service, path, reads, writes }) => entity(service, path, reads, writes) as PlanNode);
const { node: planArb } = fc.letrec<{ node: PlanNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((nodes) => seq(...nodes)),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((nodes) => par(...nodes)),
  ),
}));

describe('deferEntityFetches on random plans', () => {
  it('keeps every fetch once, keeps every ordering, and orders anew only fetches that touch disjoint data', () => {
    let rewrites = 0;
    fc.assert(
      fc.property(planArb, (node) => {
        const rewritten = deferEntityFetches(planOf(node)).node as PlanNode;
        if (rewritten !== node) rewrites++;
        const before = fetchesOf(node);
        const after = fetchesOf(rewritten);
        // The same fetch objects, each once.
        expect(new Set(after)).toEqual(new Set(before));
        expect(after.length).toBe(before.length);
        // Orderings by fetch object: the rewritten plan keeps every one, and adds only independent ones.
        const index = (list: PlanNode[]) => new Map(list.map((f, i) => [f, i]));
        const b = index(before);
        const translate = (set: Set<string>, from: PlanNode[]) =>
          new Set(
            [...set].map((pair) =>
              pair
                .split('<')
                .map((i) => b.get(from[Number(i)])!)
                .join('<'),
            ),
          );
        const was = translate(orderings(node), before);
        const now = translate(orderings(rewritten), after);
        for (const pair of was) expect(now.has(pair), `lost ${pair}`).toBe(true);
        for (const pair of now) {
          if (was.has(pair)) continue;
          const [x, y] = pair.split('<').map((i) => before[Number(i)] as Leaf);
          expect(dependent(x, y), `${shape(x)} now before ${shape(y)} in ${shape(rewritten)}`).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
    // The random plans do exercise the rewrite (not only plans it leaves alone).
    expect(rewrites).toBeGreaterThan(15);
  });
});
