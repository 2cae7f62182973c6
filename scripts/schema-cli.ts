// What schema:check, schema:publish and schema:rollback share: where the graph's files
// are (flags, defaulting to this repository's layout), telling gateways about a new
// supergraph through Redis when SUPERGRAPH_REDIS_KEY is set, and asking a running
// subgraph what it serves. With --json, stdout carries the JSON document only: every
// other line goes to stderr (and `npm run -s` keeps npm's own banner off stdout).
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compose, loadSupergraphConfig, writeFileAtomic, type GraphFiles, type LiveCheckOptions } from '@fitsync/composition';
import { ConfigError, createServiceCredentials, loadToolConfig, subscriptionsVariable, urlVariable, type ToolConfig } from '@fitsync/service-kit';
import { Redis } from 'ioredis';
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
 * How schema:publish asks the running subgraph what it serves: a service credential
 * signed with SERVICE_SECRET, at `<NAME>_URL` when set (where the gateway would send it),
 * else the routing URL of the composition config. Subscription fields without @liveTopic are
 * tried over `<NAME>_SUBSCRIPTIONS` when set (as the gateway subscribes), else the config's
 * `subscriptions:` entry, else graphql-ws.
 */
export function liveOptions(config: ToolConfig, subgraph: string): LiveCheckOptions {
  const credentials = createServiceCredentials('schema-publish', config.serviceSecret);
  return {
    url: config.subgraphUrlOverrides[urlVariable(subgraph)],
    serviceToken: () => credentials.token(),
    subscriptions: config.subgraphSubscriptions[subscriptionsVariable(subgraph)],
  };
}

/** The supergraph the gateways serve: the Redis key's value with REDIS_URL and SUPERGRAPH_REDIS_KEY set, else the file. */
export async function servedSupergraph(config: ToolConfig, files: GraphFiles): Promise<{ sdl: string | null; where: string }> {
  const { redisUrl, supergraphRedisKey } = config;
  if (redisUrl && supergraphRedisKey) {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await redis.connect();
      return { sdl: await redis.get(supergraphRedisKey), where: `Redis key ${supergraphRedisKey}` };
    } finally {
      redis.disconnect();
    }
  }
  const sdl = await readFile(files.supergraph, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return { sdl, where: files.supergraph };
}

/**
 * Composition configs that share this repository's subgraph files: after a publish or
 * rollback with the default config, supergraph.docker.graphql is recomposed too, so the
 * checked-in compositions stay consistent (`npm run codegen:check`).
 */
export async function recomposeSiblings(files: GraphFiles): Promise<string[]> {
  const written: string[] = [];
  for (const { config, out } of siblingsOf(files)) {
    const result = compose(await loadSupergraphConfig(config));
    if (!result.ok) throw new Error(`${basename(config)} no longer composes`);
    await writeFileAtomic(out, result.supergraphSdl);
    written.push(basename(out));
  }
  return written;
}

/** The compositions kept beside a `supergraph.yaml`: `supergraph.docker.yaml`, written to `supergraph.docker.graphql`. */
function siblingsOf(files: GraphFiles): { config: string; out: string }[] {
  if (basename(files.config) !== 'supergraph.yaml') return [];
  const config = join(dirname(files.config), 'supergraph.docker.yaml');
  return existsSync(config) ? [{ config, out: join(dirname(files.config), 'supergraph.docker.graphql') }] : [];
}

/**
 * Why a sibling composition would not compose with `subgraph`'s candidate schema, or nothing.
 * Asked before a publish writes anything: a sibling that would not compose refuses the publish,
 * instead of stopping it after the supergraph and the subgraph's schema were written.
 */
export async function siblingProblem(files: GraphFiles, subgraph: string, schemaFile: string | undefined): Promise<string | undefined> {
  for (const { config } of siblingsOf(files)) {
    const sources = await loadSupergraphConfig(config);
    const own = sources.find((s) => s.name === subgraph);
    // A subgraph the sibling does not list yet leaves it as it is.
    if (!own) continue;
    const candidate = schemaFile === undefined ? undefined : await readFile(schemaFile, 'utf8');
    const result = compose(sources.map((s) => (s === own && candidate !== undefined ? { ...s, sdl: candidate } : s)));
    if (!result.ok) {
      const problems = result.problems.map((p) => `  ${p.code}: ${p.message}`).join('\n');
      return `${basename(config)} would no longer compose with this schema (keep it in step with ${basename(files.config)}):\n${problems}`;
    }
  }
  return undefined;
}

/** With REDIS_URL and SUPERGRAPH_REDIS_KEY set, every gateway watching that key picks the new supergraph up. */
export async function announce(config: ToolConfig, supergraphSdl: string): Promise<string | undefined> {
  const { redisUrl, supergraphRedisKey } = config;
  if (!redisUrl || !supergraphRedisKey) return undefined;
  await publishSupergraphToRedis(redisUrl, supergraphRedisKey, supergraphSdl);
  return `Redis key ${supergraphRedisKey}`;
}
