import type { GraphQLFormattedError } from 'graphql';

/**
 * The entity representations of one `_entities` fetch with repeats removed:
 * `unique` is what goes to the subgraph, `positions[i]` is where the original
 * representation `i` sits in it.
 *
 * @apollo/gateway sends one representation per place in the response that needs
 * the entity (ten bookings of one client: ten identical `{ __typename, id }`),
 * so a subgraph resolves the same entity again and again. Sending each once and
 * fanning the answer back out gives the gateway the same response for less work.
 */
export interface DedupedRepresentations {
  unique: unknown[];
  positions: number[];
}

/** Undefined when there is nothing to remove (no list, or no repeats). */
export function dedupeRepresentations(representations: unknown): DedupedRepresentations | undefined {
  if (!Array.isArray(representations) || representations.length < 2) return undefined;
  const seen = new Map<string, number>();
  const unique: unknown[] = [];
  const positions = new Array<number>(representations.length);
  for (let i = 0; i < representations.length; i++) {
    // The gateway builds every representation of a fetch from the same selection,
    // so equal entities serialise to equal strings.
    const key = JSON.stringify(representations[i]);
    let at = seen.get(key);
    if (at === undefined) {
      at = unique.length;
      seen.set(key, at);
      unique.push(representations[i]);
    }
    positions[i] = at;
  }
  return unique.length < representations.length ? { unique, positions } : undefined;
}

interface SubgraphResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * Puts a subgraph's answer to the unique representations back in the shape of
 * the original request: `_entities[i]` for every original position, and each
 * error about `_entities[u]` repeated at every position that asked for `u`, as
 * the subgraph would have reported it had it seen every repeat.
 */
export function expandEntities<R extends SubgraphResult>(result: R, deduped: DedupedRepresentations): R {
  const { positions } = deduped;
  const entities = result.data?._entities;
  let data = result.data;
  if (Array.isArray(entities) && entities.length === deduped.unique.length) {
    const used = new Uint8Array(entities.length);
    const expanded = positions.map((u) => {
      // The gateway merges later fetches into these objects in place: each position needs its own.
      const entity = used[u] ? copyJson(entities[u]) : entities[u];
      used[u] = 1;
      return entity;
    });
    data = { ...result.data, _entities: expanded };
  }
  const errors = result.errors?.flatMap((error) => {
    const [root, index, ...rest] = error.path ?? [];
    if (root !== '_entities' || typeof index !== 'number') return [error];
    const at: GraphQLFormattedError[] = [];
    for (let i = 0; i < positions.length; i++) if (positions[i] === index) at.push({ ...error, path: ['_entities', i, ...rest] });
    return at.length ? at : [error];
  });
  return { ...result, data, ...(errors ? { errors } : {}) };
}

function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key in value) out[key] = copyJson((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
