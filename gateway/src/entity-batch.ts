import {
  BREAK,
  Kind,
  OperationTypeNode,
  parse,
  print,
  visit,
  type DocumentNode,
  type GraphQLFormattedError,
  type NameNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type TypeNode,
  type VariableNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Entity fetches that one client operation sends the same subgraph at the same
 * moment (a trainer's dashboard asks `users` for its clients' profiles, for the
 * clients of its bookings and for the clients of its programs, in parallel) go
 * out as one request with one aliased `_entities` field each. The subgraph then
 * answers one HTTP request instead of three and its DataLoaders batch across all
 * of them; @apollo/gateway would send each fetch on its own.
 */

/** Entity fetches the planner writes: few distinct texts, each read once. */
const analysed = new LRUCache<string, { selection: SelectionSetNode | null }>({ max: 1_000 });

/**
 * The selection set of an entity fetch that can share a request: the query planner's
 * `query Name($representations:[_Any!]!){_entities(representations:$representations){...}}`
 * whose only variable is its representations. Anything else is sent on its own.
 */
export function entitySelection(query: string | undefined, variables: Record<string, unknown> | undefined): SelectionSetNode | undefined {
  if (!query || !variables || !Array.isArray(variables.representations) || Object.keys(variables).length !== 1) return undefined;
  let hit = analysed.get(query);
  if (hit === undefined) {
    hit = { selection: entityFetchSelection(query) };
    analysed.set(query, hit);
  }
  return hit.selection ?? undefined;
}

function entityFetchSelection(query: string): SelectionSetNode | null {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  // Fragment definitions would follow the operation: merging would need them renamed.
  if (document.definitions.length !== 1) return null;
  const [operation] = document.definitions;
  if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== OperationTypeNode.QUERY || operation.directives?.length) return null;
  const [variable, ...otherVariables] = operation.variableDefinitions ?? [];
  if (!variable || otherVariables.length || variable.variable.name.value !== 'representations' || print(variable.type) !== '[_Any!]!' || variable.defaultValue)
    return null;
  const [field, ...otherFields] = operation.selectionSet.selections;
  if (
    !field ||
    otherFields.length ||
    field.kind !== Kind.FIELD ||
    field.name.value !== '_entities' ||
    field.alias ||
    field.directives?.length ||
    !field.selectionSet
  )
    return null;
  const [argument, ...otherArguments] = field.arguments ?? [];
  if (
    !argument ||
    otherArguments.length ||
    argument.name.value !== 'representations' ||
    argument.value.kind !== Kind.VARIABLE ||
    argument.value.name.value !== 'representations'
  )
    return null;
  // The merged operation renames the variables: a selection that reads one cannot move.
  let readsVariable = false;
  visit(field.selectionSet, {
    Variable() {
      readsVariable = true;
      return BREAK;
    },
  });
  return readsVariable ? null : field.selectionSet;
}

export interface MergedFetch {
  query: string;
  operationName?: string;
  variables: Record<string, unknown[]>;
}

const alias = (i: number) => `_e${i}`;
const name = (value: string): NameNode => ({ kind: Kind.NAME, value });
const variable = (value: string): VariableNode => ({ kind: Kind.VARIABLE, name: name(value) });
/** `[_Any!]!` */
const REPRESENTATIONS_TYPE: TypeNode = {
  kind: Kind.NON_NULL_TYPE,
  type: { kind: Kind.LIST_TYPE, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: name('_Any') } } },
};

/**
 * One operation with an aliased `_entities` field per fetch, in order, named
 * after the first fetch (subgraph logs and traces keep a recognisable name).
 */
export function mergeEntityFetches(fetches: { selection: SelectionSetNode; representations: unknown[] }[], operationName?: string): MergedFetch {
  const key = `${operationName ?? ''}\u0000${fetches.map((f) => selectionId(f.selection)).join(',')}`;
  let text = mergedTexts.get(key);
  if (text === undefined) {
    text = printMerged(
      fetches.map((f) => f.selection),
      operationName,
    );
    mergedTexts.set(key, text);
  }
  return {
    ...text,
    variables: Object.fromEntries(fetches.map((f, i) => [`r${i}`, f.representations])),
  };
}

/**
 * The printed merged operations, by the selections merged (in order) and the name: a plan
 * sends the same few combinations over and over, and printing one per request was a visible
 * share of the gateway's CPU. The selections are the `analysed` cache's own nodes, the same
 * object for the same fetch text, so each gets a number once.
 */
const mergedTexts = new LRUCache<string, { query: string; operationName?: string }>({ max: 1_000 });
const selectionIds = new WeakMap<SelectionSetNode, number>();
let nextSelectionId = 0;
function selectionId(selection: SelectionSetNode): number {
  let id = selectionIds.get(selection);
  if (id === undefined) selectionIds.set(selection, (id = nextSelectionId++));
  return id;
}

function printMerged(selections: SelectionSetNode[], operationName: string | undefined): { query: string; operationName?: string } {
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: OperationTypeNode.QUERY,
    name: operationName && NAME.test(operationName) ? name(operationName) : undefined,
    variableDefinitions: selections.map((_, i) => ({ kind: Kind.VARIABLE_DEFINITION, variable: variable(`r${i}`), type: REPRESENTATIONS_TYPE })),
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: selections.map((selection, i) => ({
        kind: Kind.FIELD,
        alias: name(alias(i)),
        name: name('_entities'),
        arguments: [{ kind: Kind.ARGUMENT, name: name('representations'), value: variable(`r${i}`) }],
        selectionSet: selection,
      })),
    },
  };
  return { query: print({ kind: Kind.DOCUMENT, definitions: [operation] }), operationName: operation.name?.value };
}

/** A GraphQL name (the spec's Name token), which an operation name from a plan should be. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

interface SubgraphResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * The answer to a merged request as each fetch would have had it: its own
 * `_entities`, the errors under its alias with their paths back under
 * `_entities`, and errors about no field in particular for every fetch.
 */
export function splitMergedResult(result: SubgraphResult, count: number): SubgraphResult[] {
  return Array.from({ length: count }, (_, i) => {
    const errors = (result.errors ?? []).flatMap((e) => {
      const [root, ...rest] = e.path ?? [];
      if (root === undefined) return [e];
      return root === alias(i) ? [{ ...e, path: ['_entities', ...rest] }] : [];
    });
    const data = result.data ? { _entities: result.data[alias(i)] } : result.data;
    return { data, ...(errors.length ? { errors } : {}) };
  });
}
