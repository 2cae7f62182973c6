import type { FetchNode, FlattenNode, ParallelNode, PlanNode, QueryPlan, QueryPlanSelectionNode, SequenceNode } from '@apollo/query-planner';
import { Kind, OperationTypeNode, parse, type SelectionSetNode } from 'graphql';

/**
 * Entity fetches to one subgraph that a plan issues at different stages, moved so that they
 * leave at the same moment and go out as one request (datasource.ts merges the entity fetches
 * an operation starts together; entity-batch.ts). The query planner (2.14) schedules each fetch
 * as early as its inputs allow; a trainer's dashboard then asks `users` after `training` (the
 * clients' and the programs' clients' names) and again after `schedule` (the bookings'
 * clients), although the first two could wait for the second without delaying the answer:
 * the Parallel they are in waits for the branch with `schedule` anyway. Hive Gateway sends
 * those as one request too. Not an upstream bug (the planner has no notion of merging
 * requests); an optimisation that lives with the other plan rewrites, applied once per plan
 * before Apollo's plan cache stores it. Switch: GATEWAY_DEFER_ENTITY_FETCHES.
 *
 * Two rewrites, applied bottom-up to every Parallel of a query's plan:
 *
 * 1. `Parallel[..., F, ..., Sequence[A, ..., T, ...]]` where F is an entity fetch
 *    (Flatten over an entity Fetch) to subgraph X and stage T (not the first) starts an entity
 *    fetch to X: F moves into T (`Parallel[T..., F]`), so it leaves with T's fetch. Every fetch to
 *    X that the Parallel starts at its own start must move (else nothing is saved).
 * 2. `Parallel[..., Sequence[A..., L1], Sequence[B..., L2]]` whose last stages L1 and L2 are
 *    entity fetches to the same subgraph: `Sequence[Parallel[Sequence[A...], Sequence[B...]],
 *    Parallel[L1, L2]]` (both wait for both prefixes, and leave together).
 *
 * Either only adds orderings (a moved fetch runs after more of the plan than before, never
 * before anything it ran after), so the only risk is a fetch now ordered after one it depends on
 * not being so before, or before one that reads its output: a move is made only when the moved
 * fetch and every fetch it gets ordered against touch disjoint data (neither reads or writes a
 * field at a response path that the other writes: `@requires`/`@key` inputs are the fetches'
 * `requires`). Fetches the rule cannot read (fragments, rewrites, contexts, mutations) count as
 * touching everything. Mutation plans, subscriptions and plans with `@defer` are left as they are.
 */
export function deferEntityFetches(plan: QueryPlan): QueryPlan {
  const node = plan.node;
  if (!node || node.kind === 'Subscription' || !onlyQueries(node)) return plan;
  const rewritten = rewrite(node, []);
  return rewritten === node ? plan : { ...plan, node: rewritten };
}

/** The plans of queries only: every fetch a query, no @defer (Apollo's gateway executes none). */
function onlyQueries(node: PlanNode): boolean {
  switch (node.kind) {
    case 'Fetch':
      return node.operationKind === OperationTypeNode.QUERY;
    case 'Flatten':
      return onlyQueries(node.node);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.every(onlyQueries);
    case 'Condition':
      return (!node.ifClause || onlyQueries(node.ifClause)) && (!node.elseClause || onlyQueries(node.elseClause));
    default:
      return false;
  }
}

type Path = readonly (string | number)[];

/** What one fetch of the plan reads and writes, at its response path. */
interface Access {
  fetch: FetchNode;
  /** The response path of the objects it reads and writes (a Flatten's path; `@` for every list item). */
  path: Path;
  /** Its `requires` (an entity fetch's inputs), none for a root fetch. */
  reads: readonly QueryPlanSelectionNode[];
  /** The response names it writes at `path`; undefined: cannot tell (it touches everything). */
  writes: ReadonlySet<string> | undefined;
}

/** The node rewritten (the same object when nothing changed), its subtree first. */
function rewrite(node: PlanNode, path: Path): PlanNode {
  switch (node.kind) {
    case 'Flatten': {
      const inner = rewrite(node.node, [...path, ...node.path]);
      return inner === node.node ? node : { ...node, node: inner };
    }
    case 'Sequence': {
      const nodes = node.nodes.map((n) => rewrite(n, path));
      return nodes.every((n, i) => n === node.nodes[i]) ? node : { ...node, nodes };
    }
    case 'Parallel': {
      const nodes = node.nodes.map((n) => rewrite(n, path));
      let current: PlanNode = nodes.every((n, i) => n === node.nodes[i]) ? node : { ...node, nodes };
      // Each step removes a stage's worth of requests; a plan has few, so this ends quickly.
      for (let step = 0; step < 16 && current.kind === 'Parallel'; step++) {
        const next: PlanNode | undefined = moveIntoLaterStage(current, path) ?? joinLastStages(current, path);
        if (!next) break;
        current = next;
      }
      return current;
    }
    case 'Condition': {
      const ifClause = node.ifClause && rewrite(node.ifClause, path);
      const elseClause = node.elseClause && rewrite(node.elseClause, path);
      return ifClause === node.ifClause && elseClause === node.elseClause ? node : { ...node, ifClause, elseClause };
    }
    default:
      return node;
  }
}

/** `Flatten(path) { Fetch }` of an entity fetch that datasource.ts can merge, with its subgraph. */
function entityFetchOf(node: PlanNode): { service: string; flatten: FlattenNode; fetch: FetchNode } | undefined {
  if (node.kind !== 'Flatten' || node.node.kind !== 'Fetch') return undefined;
  const fetch = node.node;
  if (!fetch.requires?.length || fetch.operationKind !== OperationTypeNode.QUERY) return undefined;
  if (fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) return undefined;
  // datasource.ts merges fetches whose only variable is their representations.
  if (fetch.variableUsages?.length) return undefined;
  return { service: fetch.serviceName, flatten: node, fetch };
}

/**
 * The fetches a node sends the moment it starts (a Sequence's first stage, every member of a
 * Parallel); undefined when that cannot be told (a Condition).
 */
function startingFetches(node: PlanNode): PlanNode[] | undefined {
  switch (node.kind) {
    case 'Fetch':
      return [node];
    case 'Flatten':
      return entityFetchOf(node) ? [node] : startingFetches(node.node);
    case 'Sequence':
      return node.nodes.length ? startingFetches(node.nodes[0]) : [];
    case 'Parallel': {
      const all: PlanNode[] = [];
      for (const n of node.nodes) {
        const some = startingFetches(n);
        if (!some) return undefined;
        all.push(...some);
      }
      return all;
    }
    default:
      return undefined;
  }
}

const serviceOf = (node: PlanNode) => (node.kind === 'Fetch' ? node.serviceName : entityFetchOf(node)?.service);

/** Rewrite 1 (see the top): one move, or undefined when no move is safe and saves a request. */
function moveIntoLaterStage(parallel: ParallelNode, path: Path): PlanNode | undefined {
  const starting = startingFetches(parallel);
  if (!starting) return undefined;
  const services = new Set(parallel.nodes.map((n) => entityFetchOf(n)?.service).filter((s): s is string => s !== undefined));
  for (const service of services) {
    const moving = parallel.nodes.filter((n) => entityFetchOf(n)?.service === service);
    // A fetch to this subgraph that stays (in a member's first stage, say) would still be a request of its own.
    if (starting.some((n) => serviceOf(n) === service && !moving.includes(n))) continue;
    const movingAccess = moving.flatMap((n) => accesses(n, path));
    for (const sequence of parallel.nodes) {
      if (sequence.kind !== 'Sequence') continue;
      const stage = sequence.nodes.findIndex((s, i) => i > 0 && (startingFetches(s) ?? []).some((n) => entityFetchOf(n)?.service === service));
      if (stage < 0) continue;
      if (!independent(movingAccess, accesses(sequence, path))) continue;
      const target = sequence.nodes[stage];
      const joined: ParallelNode = { kind: 'Parallel', nodes: [...(target.kind === 'Parallel' ? target.nodes : [target]), ...moving] };
      const moved: SequenceNode = { ...sequence, nodes: sequence.nodes.map((s, i) => (i === stage ? joined : s)) };
      const rest = parallel.nodes.filter((n) => !moving.includes(n)).map((n) => (n === sequence ? moved : n));
      return rest.length === 1 ? rest[0] : { ...parallel, nodes: rest };
    }
  }
  return undefined;
}

/** Rewrite 2 (see the top): one join, or undefined. */
function joinLastStages(parallel: ParallelNode, path: Path): PlanNode | undefined {
  const bySubgraph = new Map<string, SequenceNode[]>();
  for (const member of parallel.nodes) {
    if (member.kind !== 'Sequence' || member.nodes.length < 2) continue;
    const last = member.nodes[member.nodes.length - 1];
    const fetches = last.kind === 'Parallel' ? last.nodes : [last];
    if (!fetches.every((f) => entityFetchOf(f))) continue;
    for (const service of new Set(fetches.map((f) => entityFetchOf(f)!.service))) bySubgraph.set(service, [...(bySubgraph.get(service) ?? []), member]);
  }
  for (const sequences of bySubgraph.values()) {
    if (sequences.length < 2) continue;
    const lasts = sequences.map((s) => s.nodes[s.nodes.length - 1]);
    const prefixes = sequences.map((s): SequenceNode => ({ ...s, nodes: s.nodes.slice(0, -1) }));
    // Each last stage now also waits for the other sequences' prefixes.
    const safe = lasts.every((last, i) => prefixes.every((prefix, j) => i === j || independent(accesses(last, path), accesses(prefix, path))));
    if (!safe) continue;
    const joined: SequenceNode = {
      kind: 'Sequence',
      nodes: [
        { kind: 'Parallel', nodes: prefixes.map((p) => (p.nodes.length === 1 ? p.nodes[0] : p)) },
        { kind: 'Parallel', nodes: lasts.flatMap((l) => (l.kind === 'Parallel' ? l.nodes : [l])) },
      ],
    };
    const rest = parallel.nodes.filter((n) => !sequences.includes(n as SequenceNode));
    return rest.length === 0 ? joined : { ...parallel, nodes: [...rest, joined] };
  }
  return undefined;
}

/** Every fetch under a node, with what it reads and writes. */
function accesses(node: PlanNode, path: Path): Access[] {
  switch (node.kind) {
    case 'Fetch':
      return [{ fetch: node, path, reads: node.requires ?? [], writes: writesOf(node) }];
    case 'Flatten':
      return accesses(node.node, [...path, ...node.path]);
    case 'Sequence':
    case 'Parallel':
      return node.nodes.flatMap((n) => accesses(n, path));
    case 'Condition':
      return [...(node.ifClause ? accesses(node.ifClause, path) : []), ...(node.elseClause ? accesses(node.elseClause, path) : [])];
    default:
      // Nothing the rewrite can read: as if it touched the whole response.
      return [{ fetch: undefined as unknown as FetchNode, path: [], reads: [], writes: undefined }];
  }
}

/** True when no fetch of `a` touches what a fetch of `b` writes, and the other way round. */
export function independent(a: readonly Access[], b: readonly Access[]): boolean {
  return a.every((x) => b.every((y) => !conflicts(x, y)));
}

function conflicts(a: Access, b: Access): boolean {
  if (a.writes === undefined || b.writes === undefined) return true;
  if (a.fetch?.contextRewrites?.length || b.fetch?.contextRewrites?.length) return true;
  return readsWrite(b, a) || readsWrite(a, b) || writesOverlap(a, b);
}

/** The path without its list markers: what lines up with field names in a selection. */
const fieldsOf = (path: Path) => path.filter((p): p is string => typeof p === 'string' && p !== '@');

/** Does `reader`'s requires select a field that `writer` writes? */
function readsWrite(reader: Access, writer: Access): boolean {
  const r = fieldsOf(reader.path);
  const w = fieldsOf(writer.path);
  if (r.length <= w.length) {
    if (!r.every((p, i) => p === w[i])) return false;
    // The reader reads at or above the writer's objects: follow its selection down to them.
    let selections: readonly QueryPlanSelectionNode[] = reader.reads;
    for (const segment of w.slice(r.length)) {
      selections = fieldsNamed(selections, segment).flatMap((f) => f.selections ?? []);
      if (selections.length === 0) return false;
    }
    return responseNames(selections).some((n) => writer.writes!.has(n));
  }
  // The reader reads below the writer's objects: through a field the writer writes?
  if (!w.every((p, i) => p === r[i])) return false;
  return reader.reads.length > 0 && writer.writes!.has(r[w.length]);
}

function writesOverlap(a: Access, b: Access): boolean {
  const pa = fieldsOf(a.path);
  const pb = fieldsOf(b.path);
  const [short, long, shortWrites, longWrites] = pa.length <= pb.length ? [pa, pb, a.writes!, b.writes!] : [pb, pa, b.writes!, a.writes!];
  if (!short.every((p, i) => p === long[i])) return false;
  if (short.length === long.length) return [...shortWrites].some((n) => longWrites.has(n));
  return shortWrites.has(long[short.length]);
}

function fieldsNamed(selections: readonly QueryPlanSelectionNode[], name: string): { selections?: readonly QueryPlanSelectionNode[] }[] {
  return selections.flatMap((s) =>
    s.kind === 'InlineFragment' ? fieldsNamed(s.selections, name) : (s.alias ?? s.name) === name ? [{ selections: s.selections }] : [],
  );
}

function responseNames(selections: readonly QueryPlanSelectionNode[]): string[] {
  return selections.flatMap((s) => (s.kind === 'InlineFragment' ? responseNames(s.selections) : [s.alias ?? s.name]));
}

/**
 * The response names a fetch writes at its path: the fields under an entity fetch's
 * `_entities`, or a root fetch's root fields. Undefined for anything else (fragments, aliases of
 * `_entities`, a document that does not parse), which counts as writing everything.
 */
function writesOf(fetch: FetchNode): Set<string> | undefined {
  if (fetch.outputRewrites?.length || fetch.inputRewrites?.length) return undefined;
  let document;
  try {
    document = fetch.operationDocumentNode ?? parse(fetch.operation, { noLocation: true });
  } catch {
    return undefined;
  }
  if (document.definitions.length !== 1 || document.definitions[0].kind !== Kind.OPERATION_DEFINITION) return undefined;
  let selectionSet: SelectionSetNode = document.definitions[0].selectionSet;
  if (fetch.requires?.length) {
    const [entities, ...others] = selectionSet.selections;
    if (others.length || entities.kind !== Kind.FIELD || entities.name.value !== '_entities' || entities.alias || !entities.selectionSet) return undefined;
    selectionSet = entities.selectionSet;
  }
  const names = new Set<string>();
  const collect = (set: SelectionSetNode): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return names.add(s.alias?.value ?? s.name.value);
      return s.kind === Kind.INLINE_FRAGMENT && collect(s.selectionSet);
    });
  return collect(selectionSet) ? names : undefined;
}
