import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { apiSchemaSdl, loadSupergraphConfig, writeFileAtomic, type SubgraphSource } from './compose.js';
import { checkSubgraph, type CheckReport } from './check.js';
import { SchemaHistory, previousVersion, type CheckSummary, type HistoryEntry } from './history.js';
import { loadKnownOperations } from './operations.js';

/** Where a graph's files live; every path may point into a temp folder (tests). */
export interface GraphFiles {
  /** Rover-style composition config (`supergraph.yaml`). */
  config: string;
  /** The supergraph the gateway serves (`supergraph.graphql`). */
  supergraph: string;
  /** The API schema codegen reads (`api-schema.graphql`); omitted for configs without one. */
  apiSchema?: string;
  /** Known client operations (`operations/`). */
  operations: string;
  /** Published versions (`.schema-history/`). */
  history: string;
}

/** Relative to the working folder when inside it, else absolute. */
const shownPath = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

const readOrUndefined = (path: string) =>
  readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });

/** Runs `schema:check` for a subgraph: the candidate is `schemaFile`, else the subgraph's configured file as it is now. */
export async function runCheck(
  files: GraphFiles,
  subgraph: string,
  schemaFile?: string,
): Promise<{ report: CheckReport; subgraphs: SubgraphSource[]; candidateSdl: string; schemaFiles: Record<string, string> }> {
  const subgraphs = await loadSupergraphConfig(files.config);
  const configured = subgraphs.find((s) => s.name === subgraph);
  const candidateSdl = schemaFile !== undefined ? await readFile(schemaFile, 'utf8') : (configured?.sdl ?? '');
  const report = await checkSubgraph({
    subgraphs,
    subgraph,
    candidateSdl,
    currentSupergraphSdl: await readOrUndefined(files.supergraph),
    operations: await loadKnownOperations(files.operations),
  });
  const schemaFiles = Object.fromEntries(subgraphs.map((s) => [s.name, shownPath(s.name === subgraph && schemaFile ? resolve(schemaFile) : s.file)]));
  return { report, subgraphs, candidateSdl, schemaFiles };
}

export const summarize = (r: CheckReport): CheckSummary => ({
  status: r.status,
  breaking: r.changes.filter((c) => c.level === 'breaking').length,
  dangerous: r.changes.filter((c) => c.level === 'dangerous').length,
  safe: r.changes.filter((c) => c.level === 'safe').length,
  brokenOperations: r.brokenOperations.map((o) => `${o.name} (${o.source})`),
});

export type PublishResult =
  | { outcome: 'published'; report: CheckReport; schemaFiles: Record<string, string>; entry: HistoryEntry; supergraphSdl: string }
  | { outcome: 'unchanged'; report: CheckReport; schemaFiles: Record<string, string> }
  | { outcome: 'refused'; report: CheckReport; schemaFiles: Record<string, string>; reason: string };

async function writeGraph(files: GraphFiles, supergraphSdl: string) {
  await writeFileAtomic(files.supergraph, supergraphSdl);
  if (files.apiSchema) await writeFileAtomic(files.apiSchema, apiSchemaSdl(supergraphSdl));
}

const sdlByName = (subgraphs: SubgraphSource[]) => Object.fromEntries(subgraphs.map((s) => [s.name, s.sdl]));

/**
 * Checks a subgraph's candidate schema and, when it passes (or `force` and it at
 * least composes), writes it to the subgraph's schema file, writes the new
 * supergraph and API schema, and records the version in the history. Before the
 * first publish, the supergraph served until then is recorded as the baseline so
 * that it can be rolled back to.
 */
export async function publishSubgraph(
  files: GraphFiles,
  opts: { subgraph: string; schemaFile?: string; force?: boolean; author: string; now?: Date },
): Promise<PublishResult> {
  const history = new SchemaHistory(files.history);
  return history.locked(async () => {
    const { report, subgraphs, candidateSdl, schemaFiles } = await runCheck(files, opts.subgraph, opts.schemaFile);
    if (report.exitCode === 2)
      return { outcome: 'refused', report, schemaFiles, reason: 'the candidate schema does not compose (--force cannot publish what does not compose)' };
    if (report.exitCode === 1 && !opts.force)
      return {
        outcome: 'refused',
        report,
        schemaFiles,
        reason: `it breaks ${report.brokenOperations.length} known operation(s); fix them or publish with --force`,
      };
    const supergraphSdl = report.supergraphSdl!;
    const current = await readOrUndefined(files.supergraph);
    const target = subgraphs.find((s) => s.name === opts.subgraph)!;
    if (current === supergraphSdl && target.sdl === candidateSdl) return { outcome: 'unchanged', report, schemaFiles };

    const at = (opts.now ?? new Date()).toISOString();
    if ((await history.entries()).length === 0 && current !== undefined) {
      await history.append({ kind: 'baseline', at, author: opts.author }, { supergraphSdl: current, subgraphs: sdlByName(subgraphs) });
    }
    if (target.sdl !== candidateSdl) await writeFileAtomic(target.file, candidateSdl);
    await writeGraph(files, supergraphSdl);
    const entry = await history.append(
      { kind: 'publish', at, author: opts.author, subgraph: opts.subgraph, forced: report.exitCode !== 0, check: summarize(report) },
      { supergraphSdl, subgraphs: { ...sdlByName(subgraphs), [opts.subgraph]: candidateSdl } },
    );
    return { outcome: 'published', report, schemaFiles, entry, supergraphSdl };
  });
}

/**
 * Restores a published version (default: the one served before the current one):
 * the supergraph byte for byte, the API schema, and the subgraph schema files it
 * was composed from; records the rollback as a new version.
 */
export async function rollbackSupergraph(
  files: GraphFiles,
  opts: { version?: number; author: string; now?: Date },
): Promise<{ entry: HistoryEntry; restored: HistoryEntry; supergraphSdl: string; subgraphFiles: string[] }> {
  const history = new SchemaHistory(files.history);
  return history.locked(async () => {
    const entries = await history.entries();
    if (entries.length === 0) throw new Error(`no published versions in ${files.history}: nothing to roll back to`);
    const restored = opts.version === undefined ? previousVersion(entries) : entries.find((e) => e.version === opts.version);
    if (!restored) {
      throw new Error(
        opts.version === undefined
          ? 'no earlier version to roll back to'
          : `no version ${opts.version} in ${files.history} (have ${entries.map((e) => e.version).join(', ')})`,
      );
    }
    const snapshot = await history.read(restored);
    const subgraphFiles: string[] = [];
    for (const s of await loadSupergraphConfig(files.config)) {
      const sdl = snapshot.subgraphs[s.name];
      if (sdl === undefined || sdl === s.sdl) continue;
      await writeFileAtomic(s.file, sdl);
      subgraphFiles.push(s.file);
    }
    await writeGraph(files, snapshot.supergraphSdl);
    const entry = await history.append(
      { kind: 'rollback', at: (opts.now ?? new Date()).toISOString(), author: opts.author, restoredVersion: restored.version },
      snapshot,
    );
    return { entry, restored, supergraphSdl: snapshot.supergraphSdl, subgraphFiles };
  });
}
