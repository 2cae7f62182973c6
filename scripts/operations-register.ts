// npm run operations:register -- <manifest.json> --client web@1.4.0 [--operations operations] [--supergraph supergraph.graphql]
//
// Registers a client's Apollo persisted-query manifest as trusted documents: every
// operation must have the sha256 of its body as its id and validate against the served
// supergraph's API schema (--supergraph, or the one at SUPERGRAPH_REDIS_KEY when set); then the manifest is written to operations/trusted/<client>.json,
// where running gateways (watching TRUSTED_DOCUMENTS_DIR) pick it up and schema:check
// protects it. With REDIS_URL set, it is also stored in Redis and announced, so gateway
// replicas on other machines serve it too. Exit 0: registered; 1: refused (every problem
// listed, each naming its operation; nothing written); 2: bad usage or configuration.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { registerManifest } from '@fitsync/composition';
import { Redis } from 'ioredis';
import { publishManifestToRedis } from '../gateway/src/trusted/redis.js';
import { scriptConfig } from './schema-cli.js';

const USAGE = 'usage: npm run operations:register -- <manifest.json> --client <name[@version]> [--operations operations] [--supergraph supergraph.graphql]';

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      client: { type: 'string' },
      operations: { type: 'string', default: 'operations' },
      supergraph: { type: 'string', default: 'supergraph.graphql' },
    },
  });
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (positionals.length !== 1 || !values.client) {
  console.error(USAGE);
  process.exit(2);
}
const config = scriptConfig();

// Gateways that serve the supergraph at SUPERGRAPH_REDIS_KEY serve what is stored there (the file until something is).
const served = config.redisUrl && config.supergraphRedisKey ? await redisSupergraph(config.redisUrl, config.supergraphRedisKey) : null;
const result = await registerManifest({
  manifest: resolve(positionals[0]),
  client: values.client,
  operations: resolve(values.operations),
  supergraph: served === null ? resolve(values.supergraph) : `redis key ${config.supergraphRedisKey}`,
  supergraphSdl: served ?? undefined,
});
if (!result.ok) {
  console.error(`refused: ${positionals[0]} is not registered\n${result.problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`registered ${result.operations} operation(s) of ${values.client}: ${result.path}`);
if (config.redisUrl) {
  await publishManifestToRedis(config.redisUrl, config.eventsPrefix, values.client, result.manifestJson);
  console.log(`announced to the gateways over Redis (${config.eventsPrefix}:trusted-documents)`);
}

async function redisSupergraph(url: string, key: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    return await redis.get(key);
  } finally {
    redis.disconnect();
  }
}
