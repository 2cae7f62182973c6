import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

/** Reads a subgraph's `schema.graphql` (the source of truth, also read by composition and codegen). */
export function loadSchema(url: URL): DocumentNode {
  return parse(readFileSync(url, 'utf8'));
}

/**
 * A subgraph package's `schema.graphql` and `migrations/`, found from a module in its
 * `src/` (pass `import.meta.url`): where every subgraph keeps them.
 */
export function subgraphFiles(moduleUrl: string): { typeDefs: DocumentNode; migrationsDir: URL } {
  return { typeDefs: loadSchema(new URL('../schema.graphql', moduleUrl)), migrationsDir: new URL('../migrations/', moduleUrl) };
}
