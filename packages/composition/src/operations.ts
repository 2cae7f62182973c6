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
}

/** Apollo's persisted query manifest, the format `generate-persisted-query-manifest` writes. */
const manifestSchema = z.object({
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
      const document = parseOrThrow(await readFile(file, 'utf8'), shown);
      ops.push({ name: namesOf(document), source: shown, document });
    } else if (file.endsWith('.json')) {
      const parsed = manifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (!parsed.success) throw new Error(`${shown} is not an Apollo persisted-query manifest: ${parsed.error.issues[0]?.message}`);
      for (const op of parsed.data.operations) {
        const document = parseOrThrow(op.body, `${shown}#${op.id}`);
        ops.push({ name: op.name ?? namesOf(document), source: `${shown}#${op.id}`, document });
      }
    }
  }
  return ops;
}

function parseOrThrow(body: string, where: string): DocumentNode {
  try {
    return parse(body);
  } catch (err) {
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
