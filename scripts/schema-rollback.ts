// npm run schema:rollback [-- <version>] [--author NAME] [--list]
//
// Restores the supergraph served before the current one (or the version given) from
// .schema-history/, byte for byte, with the API schema and the subgraph schema files it
// was composed from, and records the rollback as a new version. --list shows the history.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SchemaHistory, rollbackSupergraph } from '@fitsync/composition';
import { FILE_OPTIONS, announce, defaultAuthor, graphFiles, recomposeSiblings, scriptConfig } from './schema-cli.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ...FILE_OPTIONS, author: { type: 'string' }, list: { type: 'boolean', default: false } },
});
const files = graphFiles(values);

if (values.list) {
  for (const e of await new SchemaHistory(files.history).entries()) {
    const what =
      e.kind === 'publish' ? `publish ${e.subgraph}${e.forced ? ' (forced)' : ''}` : e.kind === 'rollback' ? `rollback to ${e.restoredVersion}` : 'baseline';
    console.log(`${String(e.version).padStart(4)}  ${e.at}  ${e.hash.slice(0, 12)}  ${e.author.padEnd(12)} ${what}`);
  }
  process.exit(0);
}

const raw = positionals[0];
const version = raw === undefined ? undefined : Number(raw);
if (version !== undefined && !Number.isInteger(version)) {
  console.error(`usage: npm run schema:rollback [-- <version>]  (got ${JSON.stringify(raw)})`);
  process.exit(2);
}
const config = scriptConfig();
try {
  const r = await rollbackSupergraph(files, { version, author: values.author ?? defaultAuthor(config) });
  const siblings = await recomposeSiblings(files);
  const redis = await announce(config, r.supergraphSdl);
  const restoredFiles = [relative('.', files.supergraph), ...r.subgraphFiles.map((f) => relative('.', f)), ...siblings];
  console.log(
    `Rolled back to version ${r.restored.version} (${r.restored.kind}${r.restored.subgraph ? ` of ${r.restored.subgraph}` : ''}, ${r.restored.at}), ` +
      `recorded as version ${r.entry.version}: sha256 ${r.entry.hash.slice(0, 12)}; wrote ${restoredFiles.join(', ')}${redis ? `, ${redis}` : ''}.`,
  );
} catch (err) {
  console.error(`schema:rollback: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
