// npm run compose [-- --config supergraph.yaml --out supergraph.graphql --api api-schema.graphql]
//
// Composes the subgraph schemas into the supergraph and the API schema. With the default
// config it recomposes supergraph.docker.graphql (supergraph.docker.yaml: the same graph on
// the docker-compose network) too, so that no checked-in composition is left behind.
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apiSchemaSdl, compose, formatProblems, loadSupergraphConfig, writeFileAtomic } from '@fitsync/composition';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'supergraph.yaml' },
    out: { type: 'string', default: 'supergraph.graphql' },
    api: { type: 'string', default: 'api-schema.graphql' },
  },
});

/** Composes one config, or exits 1 listing every composition error with file:line. */
async function composeOrExit(config: string) {
  const subgraphs = await loadSupergraphConfig(config);
  const result = compose(subgraphs);
  if (!result.ok) {
    const files = Object.fromEntries(subgraphs.map((s) => [s.name, relative(process.cwd(), s.file)]));
    console.error(`Composition of ${config} failed with ${result.problems.length} error(s):\n${formatProblems(result.problems, files)}`);
    process.exit(1);
  }
  return { subgraphs, supergraphSdl: result.supergraphSdl };
}

const main = await composeOrExit(values.config);
// Composed before anything is written: a docker config that fails leaves every file as it was.
const docker = resolve(values.config) === resolve('supergraph.yaml') ? await composeOrExit('supergraph.docker.yaml') : undefined;
await writeFileAtomic(values.out, main.supergraphSdl);
await writeFileAtomic(values.api, apiSchemaSdl(main.supergraphSdl));
if (docker) await writeFileAtomic('supergraph.docker.graphql', docker.supergraphSdl);
console.log(
  `Composed ${main.subgraphs.length} subgraphs (${main.subgraphs.map((s) => s.name).join(', ')}) into ${values.out} (API schema: ${values.api})` +
    (docker ? `, and supergraph.docker.yaml into supergraph.docker.graphql` : ''),
);
