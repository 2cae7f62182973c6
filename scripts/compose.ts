// npm run compose [-- --config supergraph.yaml --out supergraph.graphql]
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { apiSchemaSdl, compose, formatProblems, loadSupergraphConfig, writeFileAtomic } from '@fitsync/composition';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'supergraph.yaml' },
    out: { type: 'string', default: 'supergraph.graphql' },
    api: { type: 'string', default: 'api-schema.graphql' },
  },
});

const subgraphs = await loadSupergraphConfig(values.config);
const result = compose(subgraphs);
if (!result.ok) {
  const files = Object.fromEntries(subgraphs.map((s) => [s.name, relative(process.cwd(), s.file)]));
  console.error(`Composition of ${values.config} failed with ${result.problems.length} error(s):\n${formatProblems(result.problems, files)}`);
  process.exit(1);
}
await writeFileAtomic(values.out, result.supergraphSdl);
await writeFileAtomic(values.api, apiSchemaSdl(result.supergraphSdl));
console.log(`Composed ${subgraphs.length} subgraphs (${subgraphs.map((s) => s.name).join(', ')}) into ${values.out} (API schema: ${values.api})`);
