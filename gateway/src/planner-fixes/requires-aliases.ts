import { createHash } from 'node:crypto';
import { requiredFields } from '@fitsync/composition';
import { GraphQLError, Kind, print, visit, type DocumentNode, type FieldNode } from 'graphql';

/** A client document with its colliding fields aliased, and how to name them back. */
export interface AliasedDocument {
  document: DocumentNode;
  /** Alias given → the client's response name. */
  renames: ReadonlyMap<string, string>;
  /** sha256 of the aliased document, for plan caches keyed by the client's query. */
  hash: string;
}

/**
 * Works around the query planner merging a client's field with a `@requires` selection of
 * the same name but other arguments: with `summary @requires(fields: "comments(limit: 3) { id }")`,
 * a client asking `comments(limit: 1)` and `summary` gets one fetch of `comments` for both,
 * because the planner keys a fetch's selections by response name, ignoring arguments
 * (apollographql/federation#2996, apollographql/router#5000, both open): one side gets the
 * other's value. Every client field whose response name a `@requires` of the supergraph
 * selects (at any depth), where either has arguments or the client aliased another field
 * to that name, is aliased (`fsRequires_comments: comments(limit: 1)`) before planning, so
 * the two are different selections of the fetch, and renamed back in the result (data and
 * error paths). Fields a `@requires` selects with none of that are left alone: identical
 * selections merge correctly. Two `@requires` that collide with each other are refused at
 * composition instead (`requiresConflicts` in @fitsync/composition).
 * Remove this module when the planner keeps selections with different arguments apart.
 */
export class RequiresAliases {
  /** The field names `@requires` field sets select, and whether any of them with arguments. */
  readonly #required = new Map<string, boolean>();
  /** Apollo Server hands the executor the same DocumentNode for a repeated query (its document cache). */
  readonly #cache = new WeakMap<DocumentNode, AliasedDocument | null>();

  constructor(supergraphSdl: string) {
    for (const r of requiredFields(supergraphSdl)) {
      const name = r.path[r.path.length - 1];
      this.#required.set(name, (this.#required.get(name) ?? false) || r.hasArguments);
    }
  }

  /** The document with the fields that would collide aliased, or undefined when none would. */
  rewrite(document: DocumentNode): AliasedDocument | undefined {
    if (this.#required.size === 0) return undefined;
    let rewritten = this.#cache.get(document);
    if (rewritten === undefined) {
      rewritten = this.#rewrite(document) ?? null;
      this.#cache.set(document, rewritten);
    }
    return rewritten ?? undefined;
  }

  #collides(field: FieldNode): boolean {
    const name = (field.alias ?? field.name).value;
    const requiredWithArguments = this.#required.get(name);
    if (requiredWithArguments === undefined) return false;
    return requiredWithArguments || (field.arguments?.length ?? 0) > 0 || field.name.value !== name;
  }

  #rewrite(document: DocumentNode): AliasedDocument | undefined {
    const names = new Set<string>();
    let collisions = 0;
    visit(document, {
      Field: (field) => {
        names.add(field.name.value);
        if (field.alias) names.add(field.alias.value);
        if (this.#collides(field)) collisions++;
      },
    });
    if (collisions === 0) return undefined;
    // A prefix no name of the document starts with, so an alias cannot meet a client's name.
    let prefix = 'fsRequires_';
    for (let n = 1; [...names].some((name) => name.startsWith(prefix)); n++) prefix = `fsRequires${n}_`;
    const renames = new Map<string, string>();
    const aliased = visit(document, {
      Field: (field) => {
        if (!this.#collides(field)) return undefined;
        const name = (field.alias ?? field.name).value;
        const alias = `${prefix}${name}`;
        renames.set(alias, name);
        return { ...field, alias: { kind: Kind.NAME, value: alias } } satisfies FieldNode;
      },
    });
    return { document: aliased, renames, hash: createHash('sha256').update(print(aliased)).digest('hex') };
  }
}

/** The result with the aliases of `rewrite` named back: data keys, in their places, and error paths. */
export function restoreNames<R extends { data?: unknown; errors?: readonly GraphQLError[] }>(result: R, renames: ReadonlyMap<string, string>): R {
  const rename = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rename);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [renames.get(k) ?? k, rename(v)]));
  };
  const errors = result.errors?.map((e) =>
    e.path?.some((p) => typeof p === 'string' && renames.has(p))
      ? new GraphQLError(e.message, {
          nodes: e.nodes,
          source: e.source,
          positions: e.positions,
          originalError: e.originalError,
          extensions: e.extensions,
          path: e.path.map((p) => (typeof p === 'string' ? (renames.get(p) ?? p) : p)),
        })
      : e,
  );
  return { ...result, ...(result.data !== undefined ? { data: rename(result.data) } : {}), ...(errors ? { errors } : {}) };
}
