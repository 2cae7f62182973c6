import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kind, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { apiSchemaOf, writeFileAtomic } from './compose.js';
import { persistedQueryManifestSchema } from './operations.js';

/** `web`, `web@1.4.0`, `ios-app@2.0.0-beta.1`: the name of the file the manifest is kept in. */
const CLIENT = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._+-]*)?$/;

export interface ManifestCheck {
  /** Every problem, each naming its operation; empty when the manifest may be registered. */
  problems: string[];
  /** The manifest as it will be written (format, version, operations with id, name, type, body). */
  manifestJson?: string;
  operations: number;
}

/**
 * Checks a client's Apollo persisted-query manifest before it is trusted: it is a manifest
 * with at least one operation, and every entry's id is the sha256 of its body, the body
 * parses, names the operation its `name` and `type` say, and validates against `apiSchema`
 * (the schema the gateway serves). Reports every problem at once.
 */
export function checkManifest(json: string, apiSchema: GraphQLSchema): ManifestCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { problems: [`the manifest is not valid JSON: ${err instanceof Error ? err.message : String(err)}`], operations: 0 };
  }
  const parsed = persistedQueryManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
    return { problems: issues.map((i) => `the file is not an Apollo persisted-query manifest: ${i}`), operations: 0 };
  }
  const { operations } = parsed.data;
  if (operations.length === 0) return { problems: ['the manifest holds no operation'], operations: 0 };
  const problems: string[] = [];
  const seen = new Set<string>();
  operations.forEach((op, index) => {
    const label = `operation ${op.name ?? `#${index + 1}`} (id ${op.id})`;
    const sha = createHash('sha256').update(op.body).digest('hex');
    if (op.id !== sha) problems.push(`${label}: the id is not the sha256 of the body (that is ${sha})`);
    if (seen.has(op.id)) problems.push(`${label}: the id appears twice`);
    seen.add(op.id);
    let document: DocumentNode;
    try {
      document = parse(op.body);
    } catch (err) {
      problems.push(`${label}: the body does not parse: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const defined = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const named = op.name === undefined ? defined : defined.filter((d) => d.name?.value === op.name);
    if (named.length !== 1) {
      problems.push(
        op.name === undefined
          ? `${label}: the body must hold exactly one operation (it holds ${defined.length}); name the one it is for`
          : `${label}: the body holds no single operation named ${op.name}`,
      );
    } else {
      const kind: string = named[0].operation;
      if (op.type !== undefined && kind !== op.type) problems.push(`${label}: the manifest says ${op.type}, the body is a ${kind}`);
    }
    for (const error of validate(apiSchema, document)) problems.push(`${label}: does not validate against the served schema: ${error.message}`);
  });
  const manifest = { format: parsed.data.format, version: parsed.data.version, operations };
  return { problems, operations: operations.length, manifestJson: problems.length === 0 ? `${JSON.stringify(manifest, null, 2)}\n` : undefined };
}

export interface RegisterOptions {
  /** The manifest file a client's build wrote (`generate-persisted-query-manifest`). */
  manifest: string;
  /** `web@1.4.0`: the manifest is kept as `<operations>/trusted/<client>.json`. */
  client: string;
  /** The registry folder (`operations/`). */
  operations: string;
  /** The supergraph the gateway serves: its API schema is what every operation must validate against. */
  supergraph: string;
  /** The served supergraph's SDL when it is not the file (SUPERGRAPH_REDIS_KEY); `supergraph` then only names it. */
  supergraphSdl?: string;
}

export type RegisterResult = { ok: true; path: string; manifestJson: string; operations: number } | { ok: false; problems: string[] };

/**
 * `operations:register`: checks the manifest (checkManifest) against the served
 * supergraph's API schema and, when every operation passes, writes it to
 * `<operations>/trusted/<client>.json` (to a temp file renamed into place, so a watching
 * gateway never reads half of it). Writes nothing when anything is wrong.
 */
export async function registerManifest(opts: RegisterOptions): Promise<RegisterResult> {
  if (!CLIENT.test(opts.client)) {
    return {
      ok: false,
      problems: [`--client ${JSON.stringify(opts.client)}: a name and an optional version, such as web or web@1.4.0 (letters, digits, . _ - +)`],
    };
  }
  let json: string;
  let supergraphSdl: string;
  try {
    json = await readFile(opts.manifest, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`cannot read the manifest ${opts.manifest}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
  }
  try {
    supergraphSdl = opts.supergraphSdl ?? (await readFile(opts.supergraph, 'utf8'));
  } catch (err) {
    return { ok: false, problems: [`cannot read the served supergraph ${opts.supergraph}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
  }
  let apiSchema: GraphQLSchema;
  try {
    apiSchema = apiSchemaOf(supergraphSdl);
  } catch (err) {
    return { ok: false, problems: [`${opts.supergraph} is not a valid supergraph: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const check = checkManifest(json, apiSchema);
  if (!check.manifestJson) return { ok: false, problems: check.problems };
  const dir = join(opts.operations, 'trusted');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${opts.client}.json`);
  await writeFileAtomic(path, check.manifestJson);
  return { ok: true, path, manifestJson: check.manifestJson, operations: check.operations };
}
