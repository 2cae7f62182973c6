// npm run schema:rollback [-- <version>] [--force] [--author NAME] [--json] [--list]
//
// Restores the supergraph served before the current one (following the history of what
// was served: a version already rolled back is never restored again), or the version
// given, from .schema-history/, byte for byte, with the API schema and the subgraph schema
// files it was composed from, and records the rollback as a new version. Runs the same
// check as schema:publish first: a version that breaks a known operation (operations/,
// operations/trusted/) is refused (exit 1) unless --force. --list shows the history and
// marks the version being served (and the one a bare rollback restores).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  SchemaHistory,
  describeOrigin,
  type HistoryEntry,
  formatCheckReport,
  previousVersion,
  rollbackSupergraph,
  servedVersion,
  supergraphHash,
} from '@fitsync/composition';
import { FILE_OPTIONS, announce, defaultAuthor, graphFiles, recomposeSiblings, scriptConfig, servedSupergraph } from './schema-cli.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...FILE_OPTIONS,
    author: { type: 'string' },
    force: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const files = graphFiles(values);
const config = scriptConfig();
// stdout is the JSON document alone with --json; what a terminal reads goes to stderr then.
const say = values.json ? console.error : console.log;

if (values.list) {
  const entries = await new SchemaHistory(files.history).entries();
  const serving = servedVersion(entries);
  const next = previousVersion(entries);
  const served = await servedSupergraph(config, files);
  const servedHash = served.sdl === null ? undefined : supergraphHash(served.sdl);
  if (values.json) {
    console.log(
      JSON.stringify(
        { serving: serving?.version, rollbackTarget: next?.version, servedMatches: serving ? servedHash === serving.hash : undefined, entries },
        null,
        2,
      ),
    );
  } else {
    for (const e of entries) {
      const what =
        e.kind === 'publish'
          ? `publish ${e.subgraph}${e.forced ? ' (forced)' : ''}`
          : e.kind === 'rollback'
            ? `rollback to ${e.restoredVersion}${e.forced ? ' (forced)' : ''}, serving ${describeOrigin(entries, e)}`
            : 'baseline';
      const mark = e === serving ? '* ' : '  ';
      const note = e === serving ? '   <- serving' : e === next ? '   <- a bare rollback restores this' : '';
      console.log(`${mark}${String(e.version).padStart(4)}  ${e.at}  ${e.hash.slice(0, 12)}  ${e.author.padEnd(12)} ${what}${note}`);
    }
  }
  if (serving && servedHash !== serving.hash) {
    console.error(
      served.sdl === null
        ? `warning: nothing is served at ${served.where}`
        : `warning: ${served.where} (sha256 ${servedHash!.slice(0, 12)}) is not version ${serving.version}: it was changed outside schema:publish and schema:rollback`,
    );
  }
  process.exit(0);
}

const raw = positionals[0];
const version = raw === undefined ? undefined : Number(raw);
if (version !== undefined && !Number.isInteger(version)) {
  console.error(`usage: npm run schema:rollback [-- <version>] [--force] [--json] [--list]  (got ${JSON.stringify(raw)})`);
  process.exit(2);
}
try {
  const r = await rollbackSupergraph(files, { version, force: values.force, author: values.author ?? defaultAuthor(config) });
  (r.report.exitCode === 0 ? say : console.error)(formatCheckReport(r.report));
  if (r.outcome === 'refused') {
    if (values.json)
      console.log(JSON.stringify({ outcome: r.outcome, reason: r.reason, restored: r.restored, report: { ...r.report, supergraphSdl: undefined } }, null, 2));
    console.error(`\nNot rolled back: ${r.reason}.`);
    process.exit(1);
  }
  const siblings = await recomposeSiblings(files);
  const redis = await announce(config, r.supergraphSdl);
  const restoredFiles = [relative('.', files.supergraph), ...r.subgraphFiles.map((f) => relative('.', f)), ...siblings];
  if (values.json) {
    console.log(JSON.stringify({ outcome: r.outcome, entry: r.entry, restored: r.restored, report: { ...r.report, supergraphSdl: undefined } }, null, 2));
  }
  const entries = await new SchemaHistory(files.history).entries();
  const what = (all: HistoryEntry[], e: HistoryEntry) =>
    e.kind === 'rollback' ? `rollback, serving ${describeOrigin(all, e)}` : `${e.kind}${e.subgraph ? ` of ${e.subgraph}` : ''}`;
  say(
    `\nRolled back to version ${r.restored.version} (${what(entries, r.restored)}, ${r.restored.at})${r.entry.forced ? ', forced' : ''}, ` +
      `recorded as version ${r.entry.version}: sha256 ${r.entry.hash.slice(0, 12)}; wrote ${restoredFiles.join(', ')}${redis ? `, ${redis}` : ''}.`,
  );
} catch (err) {
  console.error(`schema:rollback: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
