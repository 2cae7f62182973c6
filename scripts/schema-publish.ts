// npm run schema:publish -- <subgraph> [schema-file] [--force] [--skip-live-check] [--author NAME] [--json]
//
// Runs schema:check, then asks the running subgraph for the SDL it serves (`{ _service { sdl } }`
// at <NAME>_URL or its routing URL, with a service credential signed with SERVICE_SECRET):
// deploy the subgraph first, then publish. Refuses a check that fails, or a candidate whose
// fields the running subgraph does not serve yet or a subgraph that cannot be asked, unless
// --force (a schema that does not compose is always refused; --skip-live-check does not ask
// the subgraph at all). A candidate with Subscription fields without @liveTopic is also
// refused unless the running subgraph serves subscriptions the way the gateway will subscribe
// (graphql-ws handshake at the ws:// URL, or a graphql-sse request with <NAME>_SUBSCRIPTIONS=sse
// or `subscriptions: sse` in the config). Then writes the subgraph's schema file, supergraph.graphql and
// api-schema.graphql (each atomically), records the version in .schema-history/, and, with
// REDIS_URL and SUPERGRAPH_REDIS_KEY set, hands the supergraph to every gateway watching that
// key. Exit codes as schema:check when refused (3: only the live check refused it).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatCheckReport, formatLiveCheck, publishSubgraph } from '@fitsync/composition';
import { FILE_OPTIONS, announce, defaultAuthor, graphFiles, liveOptions, recomposeSiblings, scriptConfig, siblingProblem } from './schema-cli.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...FILE_OPTIONS,
    force: { type: 'boolean', default: false },
    'skip-live-check': { type: 'boolean', default: false },
    author: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const [subgraph, schemaFile] = positionals;
if (!subgraph) {
  console.error('usage: npm run schema:publish -- <subgraph> [schema-file] [--force] [--skip-live-check] [--author NAME] [--json]');
  process.exit(2);
}

const files = graphFiles(values);
const config = scriptConfig();
// Nothing is written unless every composition kept beside supergraph.yaml takes the candidate too.
const sibling = await siblingProblem(files, subgraph, schemaFile);
if (sibling) {
  if (values.json) console.log(JSON.stringify({ outcome: 'refused', reason: sibling }, null, 2));
  console.error(`Not published: ${sibling}`);
  process.exit(3);
}
const result = await publishSubgraph(files, {
  subgraph,
  schemaFile,
  force: values.force,
  author: values.author ?? defaultAuthor(config),
  live: values['skip-live-check'] ? undefined : liveOptions(config, subgraph),
});
// stdout is the JSON document alone with --json; what a terminal reads goes to stderr then.
const say = values.json ? console.error : console.log;
const fine =
  result.report.exitCode === 0 && (result.live.status === 'served' || result.live.status === 'skipped') && result.live.subscriptions?.served !== false;
(fine ? say : console.error)(
  formatCheckReport(result.report, result.schemaFiles) + (result.outcome === 'unchanged' ? '' : `\n${formatLiveCheck(subgraph, result.live)}`),
);

let siblings: string[] = [];
let redis: string | undefined;
if (result.outcome === 'published') {
  siblings = await recomposeSiblings(files);
  redis = await announce(config, result.supergraphSdl);
}
if (values.json) {
  const { supergraphSdl: _omit, ...report } = result.report;
  const entry = result.outcome === 'published' ? result.entry : undefined;
  const reason = result.outcome === 'refused' ? result.reason : undefined;
  console.log(JSON.stringify({ outcome: result.outcome, reason, entry, live: result.live, report }, null, 2));
}
switch (result.outcome) {
  case 'refused':
    console.error(`\nNot published: ${result.reason}.`);
    process.exit(result.report.exitCode || 3);
    break;
  case 'unchanged':
    say(`\nNothing to publish: ${relative('.', files.supergraph)} already serves this schema.`);
    break;
  case 'published': {
    const e = result.entry;
    say(
      `\nPublished ${subgraph} as version ${e.version}${e.forced ? ' (forced)' : ''} by ${e.author}: ${relative('.', files.supergraph)} ` +
        `sha256 ${e.hash.slice(0, 12)}${siblings.length ? `, ${siblings.join(', ')}` : ''}${redis ? `, ${redis}` : ''}.` +
        `\nGateways watching it reload it; roll back with \`npm run schema:rollback\`. Run \`npm run codegen\` for the generated types.`,
    );
  }
}
