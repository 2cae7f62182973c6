// What schema:check, schema:publish and schema:rollback share: where the graph's files
// are (flags, defaulting to this repository's layout) and telling gateways about a new
// supergraph through Redis when SUPERGRAPH_REDIS_KEY is set.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { compose, loadSupergraphConfig, writeFileAtomic, type GraphFiles } from '@fitsync/composition';
import { ConfigError, loadToolConfig, type ToolConfig } from '@fitsync/service-kit';
import { publishSupergraphToRedis } from '../gateway/src/supergraph-redis.js';

export const FILE_OPTIONS = {
  config: { type: 'string', default: 'supergraph.yaml' },
  supergraph: { type: 'string', default: 'supergraph.graphql' },
  api: { type: 'string', default: 'api-schema.graphql' },
  operations: { type: 'string', default: 'operations' },
  history: { type: 'string', default: '.schema-history' },
} as const;

export function graphFiles(v: { config?: string; supergraph?: string; api?: string; operations?: string; history?: string }): GraphFiles {
  return {
    config: resolve(v.config!),
    supergraph: resolve(v.supergraph!),
    apiSchema: v.api ? resolve(v.api) : undefined,
    operations: resolve(v.operations!),
    history: resolve(v.history!),
  };
}

/** REDIS_URL, SUPERGRAPH_REDIS_KEY and the author, read by config.ts; a bad value ends the script before it writes anything. */
export function scriptConfig(): ToolConfig {
  try {
    return loadToolConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

export const defaultAuthor = (config: ToolConfig) => config.schemaAuthor ?? userInfo().username;

/**
 * Composition configs that share this repository's subgraph files: after a publish or
 * rollback with the default config, supergraph.docker.graphql is recomposed too, so the
 * checked-in compositions stay consistent (`npm run codegen:check`).
 */
export async function recomposeSiblings(files: GraphFiles): Promise<string[]> {
  if (files.config !== resolve('supergraph.yaml')) return [];
  const written: string[] = [];
  for (const [config, out] of [['supergraph.docker.yaml', 'supergraph.docker.graphql']] as const) {
    const result = compose(await loadSupergraphConfig(resolve(config)));
    if (!result.ok) throw new Error(`${config} no longer composes`);
    await writeFileAtomic(resolve(out), result.supergraphSdl);
    written.push(out);
  }
  return written;
}

/** With REDIS_URL and SUPERGRAPH_REDIS_KEY set, every gateway watching that key picks the new supergraph up. */
export async function announce(config: ToolConfig, supergraphSdl: string): Promise<string | undefined> {
  const { redisUrl, supergraphRedisKey } = config;
  if (!redisUrl || !supergraphRedisKey) return undefined;
  await publishSupergraphToRedis(redisUrl, supergraphRedisKey, supergraphSdl);
  return `Redis key ${supergraphRedisKey}`;
}
