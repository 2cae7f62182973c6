import { Kind, parse, print, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';
import { joinPrefix } from './join-spec.js';

/** One field a `@requires` selects, at `path` below the entity that declares it. */
export interface RequiredField {
  /** The entity type whose field has the `@requires` (`Post`). */
  type: string;
  /** That field (`summary`). */
  field: string;
  /** The subgraph whose `@requires` it is. */
  graph: string;
  /** Response names from the entity down to the required field: `["comments"]`, `["author", "posts"]`. */
  path: string[];
  /** The required field as written, with its arguments: `comments(limit: 3)`. */
  selection: string;
  hasArguments: boolean;
}

/** Every field selected by a `@requires` in the supergraph, at any depth of its field set (from `@join__field(requires:)`). */
export function requiredFields(supergraphSdl: string | DocumentNode): RequiredField[] {
  const document = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  const prefix = joinPrefix(document);
  const fieldDirective = `${prefix}__field`;
  const graphNames = subgraphNames(document, prefix);
  const out: RequiredField[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      for (const join of field.directives ?? []) {
        if (join.name.value !== fieldDirective) continue;
        const requires = join.arguments?.find((a) => a.name.value === 'requires')?.value;
        if (requires?.kind !== Kind.STRING) continue;
        const graph = join.arguments?.find((a) => a.name.value === 'graph')?.value;
        const base = {
          type: definition.name.value,
          field: field.name.value,
          graph: graph?.kind === Kind.ENUM ? (graphNames.get(graph.value) ?? graph.value) : '?',
        };
        const walk = (set: SelectionSetNode, path: string[]) => {
          for (const s of set.selections) {
            if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, path);
            if (s.kind !== Kind.FIELD) continue;
            const at = [...path, (s.alias ?? s.name).value];
            out.push({ ...base, path: at, selection: printField(s), hasArguments: (s.arguments?.length ?? 0) > 0 });
            if (s.selectionSet) walk(s.selectionSet, at);
          }
        };
        walk((parse(`{ ${requires.value} }`).definitions[0] as { selectionSet: SelectionSetNode }).selectionSet, []);
      }
    }
  }
  return out;
}

/** The subgraph names of the `join__Graph` values (`A @join__graph(name: "a", url: ...)`). */
function subgraphNames(document: DocumentNode, prefix: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== `${prefix}__Graph`) continue;
    for (const value of definition.values ?? []) {
      const name = value.directives?.find((d) => d.name.value === `${prefix}__graph`)?.arguments?.find((a) => a.name.value === 'name')?.value;
      if (name?.kind === Kind.STRING) names.set(value.name.value, name.value);
    }
  }
  return names;
}

/** `name(arg: value, ...)`, arguments sorted, without the sub-selection. */
function printField(field: FieldNode): string {
  const args = [...(field.arguments ?? [])].sort((a, b) => a.name.value.localeCompare(b.name.value)).map((a) => `${a.name.value}: ${print(a.value)}`);
  return args.length ? `${field.name.value}(${args.join(', ')})` : field.name.value;
}

export interface RequiresConflict {
  code: 'REQUIRES_ARGUMENT_CONFLICT';
  message: string;
  /** The entity type, for a problem's location. */
  type: string;
  fields: { field: string; graph: string; selection: string }[];
}

/**
 * Two `@requires` of one entity that select the same field with different arguments (or
 * the same response name for different fields): the query planner keys a fetch's
 * selections by response name, ignoring arguments, so both get one of the two values
 * (apollographql/federation#2996, apollographql/router#5000, both open). The gateway cannot
 * alias the supergraph's own field sets apart, so such a supergraph is refused at
 * composition (`compose`, `schema:check`, `schema:publish`) and when the gateway loads it.
 */
export function requiresConflicts(supergraphSdl: string | DocumentNode): RequiresConflict[] {
  const byPlace = new Map<string, RequiredField[]>();
  for (const r of requiredFields(supergraphSdl)) {
    const key = `${r.type}\n${r.path.join('.')}`;
    byPlace.set(key, [...(byPlace.get(key) ?? []), r]);
  }
  const conflicts: RequiresConflict[] = [];
  for (const fields of byPlace.values()) {
    const distinct = [...new Set(fields.map((f) => f.selection))];
    if (distinct.length < 2) continue;
    const { type, path } = fields[0];
    const firsts = distinct.map((selection) => fields.find((f) => f.selection === selection)!);
    conflicts.push({
      code: 'REQUIRES_ARGUMENT_CONFLICT',
      type,
      fields: firsts.map((f) => ({ field: f.field, graph: f.graph, selection: f.selection })),
      message:
        `${type}.${path.join('.')} is required with different arguments: ` +
        firsts.map((f) => `${f.selection} by ${type}.${f.field} (subgraph ${f.graph})`).join(', ') +
        '. The query planner fetches one field per response name whatever its arguments (apollographql/federation#2996), so each @requires ' +
        'would get the same value; require the field with the same arguments in each, or expose each variant as a field of its own name',
    });
  }
  return conflicts;
}
