import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Kind, parse, type DocumentNode } from 'graphql';
import { z } from 'zod';

/** A client operation document the schema checks protect. */
export interface KnownOperation {
  /** Operation name(s) in the document, or `<anonymous>`. */
  name: string;
  /** `operations/TrainerDashboard.graphql`, or `operations/trusted/web.json#<id>` for a manifest entry. */
  source: string;
  document: DocumentNode;
  /** The text as a client sends it: the file's content, or the manifest entry's `body`. */
  body: string;
  /** A manifest entry's `id` (the sha256 hex of its body, when the manifest is right); files have none. */
  id?: string;
}

/** Apollo's persisted query manifest, the format `generate-persisted-query-manifest` writes. */
export const persistedQueryManifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(z.object({ id: z.string(), name: z.string().optional(), type: z.string().optional(), body: z.string() })),
});

const SKIP_DIRS = new Set(['__generated__', 'node_modules']);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await filesUnder(path)));
    } else if (e.isFile()) out.push(path);
  }
  return out.sort();
}

const namesOf = (doc: DocumentNode) =>
  doc.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? '<anonymous>'] : [])).join(', ') || '<no operation>';

/**
 * Every known client operation under `dir` (default `operations/`):
 * - each `*.graphql` file, in any folder except `__generated__` (the dashboards, and
 *   trusted documents registered as files under `operations/trusted/`);
 * - each entry of every `*.json` Apollo persisted-query manifest (registered trusted documents).
 * A document that does not parse is an error: a check that silently skips it would pass.
 * Sources are shown relative to `base` (the folder holding `dir`): `operations/TrainerDashboard.graphql`.
 */
export async function loadKnownOperations(dir: string, base = dirname(dir)): Promise<KnownOperation[]> {
  const ops: KnownOperation[] = [];
  for (const file of await filesUnder(dir)) {
    const shown = relative(base, file) || file;
    if (file.endsWith('.graphql') || file.endsWith('.gql')) {
      const body = await readFile(file, 'utf8');
      const document = parseOrThrow(body, shown);
      ops.push({ name: namesOf(document), source: shown, document, body });
    } else if (file.endsWith('.json')) {
      ops.push(...manifestOperations(await readFile(file, 'utf8'), shown));
    }
  }
  return ops;
}

/**
 * The operations of one Apollo persisted-query manifest (its JSON text); `shown` names it in
 * errors and sources (`operations/trusted/web.json`). Throws when it is not a manifest or an
 * entry does not parse.
 */
export function manifestOperations(json: string, shown: string): KnownOperation[] {
  const parsed = persistedQueryManifestSchema.safeParse(parseJson(json, shown));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${shown} is not an Apollo persisted-query manifest: ${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message}`);
  }
  return parsed.data.operations.map((op) => {
    const document = parseOrThrow(op.body, `${shown}#${op.id}`);
    return { name: op.name ?? namesOf(document), source: `${shown}#${op.id}`, document, body: op.body, id: op.id };
  });
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseOrThrow(body: string, where: string): DocumentNode {
  try {
    return parse(body);
  } catch (err) {
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
