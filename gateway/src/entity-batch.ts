import type { GraphQLFormattedError } from 'graphql';

/**
 * Entity fetches that one client operation sends the same subgraph at the same
 * moment (a trainer's dashboard asks `users` for its clients' profiles, for the
 * clients of its bookings and for the clients of its programs, in parallel) go
 * out as one request with one aliased `_entities` field each. The subgraph then
 * answers one HTTP request instead of three and its DataLoaders batch across all
 * of them; @apollo/gateway would send each fetch on its own.
 */

/** The query planner's entity fetch: `query Name($representations:[_Any!]!){_entities(representations:$representations){...}}`. */
const ENTITY_FETCH = /^query(?:\s+\w+)?\s*\(\s*\$representations\s*:\s*\[_Any!\]!\s*\)\s*\{\s*_entities\s*\(\s*representations\s*:\s*\$representations\s*\)\s*(\{[\s\S]*\})\s*\}\s*$/;

/**
 * The selection set of an entity fetch that can share a request: one whose only
 * variable is its representations. Anything else is sent on its own.
 */
export function entitySelection(query: string | undefined, variables: Record<string, unknown> | undefined): string | undefined {
  if (!query || !variables || !Array.isArray(variables.representations) || Object.keys(variables).length !== 1) return undefined;
  // Fragment definitions would follow the operation: merging would need them renamed.
  if (/\bfragment\s+\w+\s+on\b/.test(query)) return undefined;
  return ENTITY_FETCH.exec(query)?.[1];
}

export interface MergedFetch {
  query: string;
  operationName?: string;
  variables: Record<string, unknown[]>;
}

const alias = (i: number) => `_e${i}`;

/**
 * One operation with an aliased `_entities` field per fetch, in order, named
 * after the first fetch (subgraph logs and traces keep a recognisable name).
 */
export function mergeEntityFetches(fetches: { selection: string; representations: unknown[] }[], operationName?: string): MergedFetch {
  const defs = fetches.map((_, i) => `$r${i}:[_Any!]!`).join(',');
  const fields = fetches.map((f, i) => `${alias(i)}:_entities(representations:$r${i})${f.selection}`).join(' ');
  const name = operationName && /^[_A-Za-z][_0-9A-Za-z]*$/.test(operationName) ? operationName : undefined;
  return {
    query: `query${name ? ` ${name}` : ''}(${defs}){${fields}}`,
    operationName: name,
    variables: Object.fromEntries(fetches.map((f, i) => [`r${i}`, f.representations])),
  };
}

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
