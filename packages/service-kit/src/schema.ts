import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';

/** Reads a subgraph's `schema.graphql` (the source of truth, also read by composition and codegen). */
export function loadSchema(url: URL): DocumentNode {
  return parse(readFileSync(url, 'utf8'));
}
