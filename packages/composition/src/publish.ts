import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { apiSchemaSdl, loadSupergraphConfig, writeFileAtomic, type SubgraphSource } from './compose.js';
import { checkSubgraph, checkSupergraph, type CheckReport } from './check.js';
import { SchemaHistory, originVersion, previousVersion, servedVersion, type CheckSummary, type HistoryEntry } from './history.js';
import { checkLiveSubgraph, type LiveCheckOptions, type LiveCheckResult } from './live.js';
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
  | { outcome: 'published'; report: CheckReport; live: LiveCheckResult; schemaFiles: Record<string, string>; entry: HistoryEntry; supergraphSdl: string }
  | { outcome: 'unchanged'; report: CheckReport; live: LiveCheckResult; schemaFiles: Record<string, string> }
  | { outcome: 'refused'; report: CheckReport; live: LiveCheckResult; schemaFiles: Record<string, string>; reason: string };

const SKIPPED: LiveCheckResult = { status: 'skipped', missing: [], added: [] };

/** Why a live check stops a publish, or undefined when it does not. */
function liveRefusal(subgraph: string, live: LiveCheckResult): string | undefined {
  if (live.status === 'missing') {
    const named = (live.added.length ? live.added : live.missing).join(', ');
    return `${subgraph} at ${live.url} does not serve ${named} yet; deploy the subgraph first, then publish (or publish with --force)`;
  }
  if (live.status === 'unreachable')
    return `${subgraph} at ${live.url} cannot be asked what it serves (${live.error}); deploy it first, or publish with --force or --skip-live-check`;
  return undefined;
}

/** Why the subgraph's own subscriptions stop a publish, or undefined when they do not. */
function subscriptionRefusal(subgraph: string, live: LiveCheckResult): string | undefined {
  const p = live.subscriptions;
  if (!p || p.served) return undefined;
  const how = p.transport === 'ws' ? 'graphql-ws' : 'SSE';
  return (
    `${subgraph} does not serve ${p.fields.join(', ')} over ${how} at ${p.url} (${p.error}); serve subscriptions there, ` +
    `or declare a broker topic with @liveTopic, or publish with --force`
  );
}

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
  opts: { subgraph: string; schemaFile?: string; force?: boolean; author: string; now?: Date; live?: LiveCheckOptions },
): Promise<PublishResult> {
  const history = new SchemaHistory(files.history);
  return history.locked(async () => {
    const { report, subgraphs, candidateSdl, schemaFiles } = await runCheck(files, opts.subgraph, opts.schemaFile);
    if (report.exitCode === 2)
      return {
        outcome: 'refused',
        report,
        live: SKIPPED,
        schemaFiles,
        reason: 'the candidate schema does not compose (--force cannot publish what does not compose)',
      };
    const supergraphSdl = report.supergraphSdl!;
    const current = await readOrUndefined(files.supergraph);
    const target = subgraphs.find((s) => s.name === opts.subgraph)!;
    if (current === supergraphSdl && target.sdl === candidateSdl) return { outcome: 'unchanged', report, live: SKIPPED, schemaFiles };

    // Deploy first, then publish: the gateway routes the new fields as soon as it reloads.
    const live = opts.live
      ? await checkLiveSubgraph({
          url: opts.live.url ?? target.url,
          candidateSdl,
          publishedSdl: target.sdl,
          serviceToken: opts.live.serviceToken,
          timeoutMs: opts.live.timeoutMs,
          // The gateway's <NAME>_SUBSCRIPTIONS when the caller knows it, else what the config says.
          subscriptions: opts.live.subscriptions ?? target.subscriptions,
        })
      : SKIPPED;
    const reasons: string[] = [];
    if (report.exitCode === 1) reasons.push(`it breaks ${report.brokenOperations.length} known operation(s); fix them or publish with --force`);
    const notServed = liveRefusal(opts.subgraph, live);
    if (notServed) reasons.push(notServed);
    const noSubscriptions = subscriptionRefusal(opts.subgraph, live);
    if (noSubscriptions) reasons.push(noSubscriptions);
    if (reasons.length && !opts.force) return { outcome: 'refused', report, live, schemaFiles, reason: reasons.join('; and ') };

    const at = (opts.now ?? new Date()).toISOString();
    if ((await history.entries()).length === 0 && current !== undefined) {
      await history.append({ kind: 'baseline', at, author: opts.author }, { supergraphSdl: current, subgraphs: sdlByName(subgraphs) });
    }
    if (target.sdl !== candidateSdl) await writeFileAtomic(target.file, candidateSdl);
    await writeGraph(files, supergraphSdl);
    const entry = await history.append(
      { kind: 'publish', at, author: opts.author, subgraph: opts.subgraph, forced: reasons.length > 0, check: summarize(report), live },
      { supergraphSdl, subgraphs: { ...sdlByName(subgraphs), [opts.subgraph]: candidateSdl } },
    );
    return { outcome: 'published', report, live, schemaFiles, entry, supergraphSdl };
  });
}

export type RollbackResult =
  | { outcome: 'rolled-back'; report: CheckReport; entry: HistoryEntry; restored: HistoryEntry; supergraphSdl: string; subgraphFiles: string[] }
  | { outcome: 'refused'; report: CheckReport; restored: HistoryEntry; reason: string };

/**
 * Restores a version (default: the one served before the current one, following the
 * history of what was served, so a version already rolled back is never restored
 * again): the supergraph byte for byte, the API schema, and the subgraph schema files
 * it was composed from; records the rollback as a new version. Runs the same check as
 * a publish first: a restored supergraph that breaks a known operation is refused
 * unless `force`.
 */
export async function rollbackSupergraph(files: GraphFiles, opts: { version?: number; force?: boolean; author: string; now?: Date }): Promise<RollbackResult> {
  const history = new SchemaHistory(files.history);
  return history.locked(async () => {
    const entries = await history.entries();
    if (entries.length === 0) throw new Error(`no published versions in ${files.history}: nothing to roll back to`);
    const restored = opts.version === undefined ? previousVersion(entries) : entries.find((e) => e.version === opts.version);
    if (!restored) {
      const serving = servedVersion(entries)!;
      throw new Error(
        opts.version === undefined
          ? `no earlier version to roll back to: version ${serving.version} serves ${describeOrigin(entries, serving)}, and nothing was served before it`
          : `no version ${opts.version} in ${files.history} (have ${entries.map((e) => e.version).join(', ')})`,
      );
    }
    const snapshot = await history.read(restored);
    const current = await readOrUndefined(files.supergraph);
    const report = await checkSupergraph({
      label: `rollback to version ${restored.version}`,
      currentSupergraphSdl: current ?? snapshot.supergraphSdl,
      candidateSupergraphSdl: snapshot.supergraphSdl,
      operations: await loadKnownOperations(files.operations),
    });
    if (report.exitCode !== 0 && !opts.force) {
      return {
        outcome: 'refused',
        report,
        restored,
        reason: `version ${restored.version} breaks ${report.brokenOperations.length} known operation(s); roll back to another version, or with --force`,
      };
    }
    const subgraphFiles: string[] = [];
    for (const s of await loadSupergraphConfig(files.config)) {
      const sdl = snapshot.subgraphs[s.name];
      if (sdl === undefined || sdl === s.sdl) continue;
      await writeFileAtomic(s.file, sdl);
      subgraphFiles.push(s.file);
    }
    await writeGraph(files, snapshot.supergraphSdl);
    const entry = await history.append(
      {
        kind: 'rollback',
        at: (opts.now ?? new Date()).toISOString(),
        author: opts.author,
        restoredVersion: restored.version,
        forced: report.exitCode !== 0,
        check: summarize(report),
      },
      snapshot,
    );
    return { outcome: 'rolled-back', report, entry, restored, supergraphSdl: snapshot.supergraphSdl, subgraphFiles };
  });
}

/** `version 1 (baseline)`, `version 2 (publish of schedule)`: what an entry serves, through rollbacks. */
export function describeOrigin(entries: HistoryEntry[], entry: HistoryEntry): string {
  const origin = originVersion(entries, entry);
  return `version ${origin.version} (${origin.kind}${origin.subgraph ? ` of ${origin.subgraph}` : ''})`;
}
