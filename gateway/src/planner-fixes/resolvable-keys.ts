import { Kind, parse, print, type ConstDirectiveNode, type DefinitionNode, type DocumentNode } from 'graphql';
import { joinPrefix } from '@fitsync/composition';

/**
 * Works around the query planner choosing a `resolvable: false` key to jump back into a
 * subgraph after a `@requires` (or `@fromContext`) fetch: `getLocallySatisfiableKey` in
 * @apollo/query-graphs takes the first `@key` of the type in that subgraph whose fields are
 * not external, whatever its `resolvable`, and the subgraph then gets `_entities`
 * representations it cannot resolve. The fix upstream (apollographql/federation#3137) was
 * merged and reverted. The subgraph schemas the planner reads are extracted from the
 * supergraph, their `@key`s in the order of the `@join__type`s, so putting each type's
 * resolvable `@join__type`s before its non-resolvable ones makes that first key one the
 * subgraph resolves. Nothing else reads the order: resolvable keys are used by filter.
 * Remove this module when @apollo/query-graphs skips non-resolvable keys there.
 */
export function resolvableKeysFirst(supergraphSdl: string): string {
  // Cheap way out for the common case (and our own supergraph): nothing to reorder.
  if (!/resolvable\s*:\s*false/.test(supergraphSdl)) return supergraphSdl;
  const document = parse(supergraphSdl);
  const typeDirective = `${joinPrefix(document)}__type`;
  let changed = false;
  const definitions = document.definitions.map((definition): DefinitionNode => {
    if (!('directives' in definition) || !definition.directives?.length || definition.kind === Kind.DIRECTIVE_DEFINITION) return definition;
    const directives = definition.directives as readonly ConstDirectiveNode[];
    // Each graph's own @join__types change places among themselves; the other graphs' stay where they are.
    const byGraph = new Map<string, ConstDirectiveNode[]>();
    for (const d of directives) if (d.name.value === typeDirective) byGraph.set(graphOf(d), [...(byGraph.get(graphOf(d)) ?? []), d]);
    const sorted = new Map([...byGraph].map(([graph, joins]) => [graph, [...joins.filter(resolvable), ...joins.filter((d) => !resolvable(d))]]));
    const next = new Map<string, number>();
    const reordered = directives.map((d) => {
      if (d.name.value !== typeDirective) return d;
      const graph = graphOf(d);
      const i = next.get(graph) ?? 0;
      next.set(graph, i + 1);
      return sorted.get(graph)![i];
    });
    if (reordered.every((d, i) => d === directives[i])) return definition;
    changed = true;
    return { ...definition, directives: reordered };
  });
  return changed ? print({ ...document, definitions } satisfies DocumentNode) : supergraphSdl;
}

function graphOf(directive: ConstDirectiveNode): string {
  const arg = directive.arguments?.find((a) => a.name.value === 'graph');
  return arg?.value.kind === Kind.ENUM ? arg.value.value : '';
}

/** `@join__type(..., resolvable: false)` is the only way to say a key is not resolvable (the default is true). */
function resolvable(directive: ConstDirectiveNode): boolean {
  const arg = directive.arguments?.find((a) => a.name.value === 'resolvable');
  return !(arg?.value.kind === Kind.BOOLEAN && !arg.value.value);
}
