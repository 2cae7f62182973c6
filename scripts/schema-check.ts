// npm run schema:check -- <subgraph> [schema-file] [--json]
//
// Composes the candidate schema of one subgraph (schema-file, default its file in
// supergraph.yaml as it is now) with the others and reports composition errors, the
// changes to the API schema (breaking, dangerous, safe) and the known client operations
// (operations/**/*.graphql, persisted-query manifests operations/**/*.json) each breaking
// change breaks. Exit 0: safe for every known operation; 1: a known operation breaks;
// 2: composition fails (or bad usage).
import { parseArgs } from 'node:util';
import { formatCheckReport, runCheck } from '@fitsync/composition';
import { FILE_OPTIONS, graphFiles } from './schema-cli.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ...FILE_OPTIONS, json: { type: 'boolean', default: false } },
});
const [subgraph, schemaFile] = positionals;
if (!subgraph) {
  console.error(
    'usage: npm run schema:check -- <subgraph> [schema-file] [--json] [--config supergraph.yaml] [--supergraph supergraph.graphql] [--operations operations]',
  );
  process.exit(2);
}

const { report, schemaFiles } = await runCheck(graphFiles(values), subgraph, schemaFile);
if (values.json) {
  const { supergraphSdl: _omit, ...rest } = report;
  console.log(JSON.stringify(rest, null, 2));
} else {
  (report.exitCode === 0 ? console.log : console.error)(formatCheckReport(report, schemaFiles));
}
process.exit(report.exitCode);
