// npm run schema:publish -- <subgraph> [schema-file] [--force] [--author NAME]
//
// Runs schema:check, refuses a failing one unless --force (a schema that does not compose
// is always refused), then writes the subgraph's schema file, supergraph.graphql and
// api-schema.graphql (each atomically), records the version in .schema-history/, and,
// with REDIS_URL and SUPERGRAPH_REDIS_KEY set, hands the supergraph to every gateway
// watching that key. Exit codes as schema:check when refused.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatCheckReport, publishSubgraph } from '@fitsync/composition';
import { FILE_OPTIONS, announce, defaultAuthor, graphFiles, recomposeSiblings, scriptConfig } from './schema-cli.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ...FILE_OPTIONS, force: { type: 'boolean', default: false }, author: { type: 'string' }, json: { type: 'boolean', default: false } },
});
const [subgraph, schemaFile] = positionals;
if (!subgraph) {
  console.error('usage: npm run schema:publish -- <subgraph> [schema-file] [--force] [--author NAME]');
  process.exit(2);
}

const files = graphFiles(values);
const config = scriptConfig();
const result = await publishSubgraph(files, { subgraph, schemaFile, force: values.force, author: values.author ?? defaultAuthor(config) });
const print = (s: string) => (values.json ? undefined : console.log(s));
if (values.json) {
  const { supergraphSdl: _omit, ...report } = result.report;
  console.log(JSON.stringify({ outcome: result.outcome, entry: result.outcome === 'published' ? result.entry : undefined, report }, null, 2));
} else {
  (result.report.exitCode === 0 ? console.log : console.error)(formatCheckReport(result.report, result.schemaFiles));
}
switch (result.outcome) {
  case 'refused':
    console.error(`\nNot published: ${result.reason}.`);
    process.exit(result.report.exitCode);
    break;
  case 'unchanged':
    print(`\nNothing to publish: ${relative('.', files.supergraph)} already serves this schema.`);
    break;
  case 'published': {
    const e = result.entry;
    const siblings = await recomposeSiblings(files);
    const redis = await announce(config, result.supergraphSdl);
    print(
      `\nPublished ${subgraph} as version ${e.version}${e.forced ? ' (forced)' : ''} by ${e.author}: ${relative('.', files.supergraph)} ` +
        `sha256 ${e.hash.slice(0, 12)}${siblings.length ? `, ${siblings.join(', ')}` : ''}${redis ? `, ${redis}` : ''}.` +
        `\nGateways watching it reload it; roll back with \`npm run schema:rollback\`. Run \`npm run codegen\` for the generated types.`,
    );
  }
}
