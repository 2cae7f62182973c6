import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import { apiSchemaOf, supergraphHash } from '@fitsync/composition';
import type { Logger, Metrics, ServiceConfig } from '@fitsync/service-kit';
import { buildASTSchema, parse, type GraphQLSchema } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import { SupergraphError, loadSupergraph } from './supergraph.js';
import { watchRedisSupergraph, type RedisSupergraphWatch } from './supergraph-redis.js';

/** What the gateway hands to `onSchemaChange` listeners after it swapped supergraphs. */
export interface SchemaChange {
  /** The schema clients see from now on. */
  apiSchema: GraphQLSchema;
  supergraphSdl: string;
  hash: string;
  previousHash: string;
  source: string;
}

export type SchemaChangeListener = (change: SchemaChange) => void;

export interface SupergraphStatus {
  hash: string;
  source: string;
  loadedAt: string;
  reloads: number;
  /** The last supergraph refused, and why: the previous one kept serving. */
  lastRefused?: { hash: string; source: string; at: string; reason: string };
}

/**
 * Checks a supergraph before it is served: it parses, is a valid supergraph (its
 * API schema builds) and the query planner plans an operation over it.
 * Returns its API schema; throws a SupergraphError saying what is wrong.
 */
export function validateSupergraph(sdl: string): GraphQLSchema {
  try {
    const supergraph = Supergraph.build(sdl);
    const planner = new QueryPlanner(supergraph);
    planner.buildQueryPlan(operationFromDocument(supergraph.apiSchema(), parse('{ __typename }')));
    // Built by this module's graphql (see apiSchemaOf in @fitsync/composition), so callers can validate against it.
    return buildASTSchema(supergraph.apiSchema().toAST());
  } catch (err) {
    throw new SupergraphError(err instanceof Error ? err.message : String(err));
  }
}

export interface SupergraphSource {
  /** Where the gateway reads the supergraph (a file, a Redis key, or "given"). */
  readonly source: string;
  /** For `new ApolloGateway({ supergraphSdl })`: serves the initial supergraph and every valid change. */
  readonly hook: SupergraphSdlHook;
  status(): SupergraphStatus;
  /** The supergraph SDL served now. */
  sdl(): string;
  /** The API schema served now. */
  apiSchema(): GraphQLSchema;
  /** Listeners run after a new supergraph is in place (not on the initial load); requests that start afterwards use it. */
  onSchemaChange(listener: SchemaChangeListener): () => void;
  /** Reads the source now (the watchers call this; tests may too). Resolves once applied or refused. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The supergraph and where its changes come from: SUPERGRAPH_PATH, watched with
 * fs.watch on its folder (atomic renames replace the file) plus a 2 s stat poll for
 * file systems where fs.watch says nothing; or, with SUPERGRAPH_REDIS_KEY and
 * REDIS_URL, that Redis key and its announcements. A change is validated, then
 * handed to ApolloGateway's `update`; requests in flight finish on the schema they
 * started with. A refused change is logged and counted, and the old one keeps serving.
 */
export async function openSupergraphSource(config: ServiceConfig, log: Logger, metrics: Metrics, given?: string): Promise<SupergraphSource> {
  const reloadsTotal = new Counter({
    name: 'fitsync_gateway_supergraph_reloads_total',
    help: 'Supergraph changes seen by the gateway, by outcome (applied, refused)',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const served = new Gauge({
    name: 'fitsync_gateway_supergraph_info',
    help: 'The supergraph being served: 1 for its sha256 (hash label)',
    labelNames: ['hash'] as const,
    registers: [metrics.registry],
  });

  // The watchers may fire before `reload` exists (and before the gateway loaded): they go through this.
  let trigger = () => {};
  let redis: RedisSupergraphWatch | undefined;
  let initial: { sdl: string; source: string };
  const redisKey = config.supergraphRedisKey;
  let readSource: () => Promise<string | null>;
  if (given === undefined && redisKey) {
    if (!config.redisUrl) throw new SupergraphError('SUPERGRAPH_REDIS_KEY is set but REDIS_URL is not');
    redis = await watchRedisSupergraph(config.redisUrl, redisKey, log, () => trigger());
    try {
      const stored = await redis.current();
      // An empty key (nothing published yet) starts from the file; the first publish takes over.
      initial = stored !== null ? { sdl: stored, source: `redis key ${redisKey}` } : await loadSupergraph(config, log);
    } catch (err) {
      await redis.close();
      throw err;
    }
    const stored = initial.source === `redis key ${redisKey}`;
    if (!stored) log.warn({ key: redisKey, file: initial.source }, 'nothing published at the supergraph Redis key yet: serving the file');
    readSource = () => redis!.current();
  } else {
    initial = await loadSupergraph(config, log, given);
    const path = resolve(config.supergraphPath);
    readSource = initial.source === path ? () => readFile(path, 'utf8') : async () => null;
  }
  const source = redisKey && given === undefined ? `redis key ${redisKey}` : initial.source;

  let update: ((sdl: string) => void) | undefined;
  let current = { sdl: initial.sdl, hash: supergraphHash(initial.sdl) };
  const status: SupergraphStatus = { hash: current.hash, source, loadedAt: new Date().toISOString(), reloads: 0 };
  served.set({ hash: current.hash }, 1);
  const listeners = new Set<SchemaChangeListener>();
  let apiSchema: GraphQLSchema | undefined; // built on first use: most gateways never ask
  let pending: Promise<void> = Promise.resolve();

  function refuse(sdl: string, reason: string) {
    const hash = supergraphHash(sdl);
    reloadsTotal.inc({ outcome: 'refused' });
    status.lastRefused = { hash, source, at: new Date().toISOString(), reason };
    log.error({ source, refused: hash.slice(0, 12), serving: current.hash.slice(0, 12), reason }, 'new supergraph refused; the current one keeps serving');
  }

  async function apply() {
    if (!update) return; // not loaded yet: the initial load reads the source itself
    let sdl: string | null;
    try {
      sdl = await readSource();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // between an unlink and a rename
      throw err;
    }
    if (sdl === null) return;
    const hash = supergraphHash(sdl);
    if (hash === current.hash || hash === status.lastRefused?.hash) return;
    let nextApiSchema: GraphQLSchema;
    try {
      nextApiSchema = validateSupergraph(sdl);
    } catch (err) {
      refuse(sdl, err instanceof Error ? err.message : String(err));
      return;
    }
    // Not a refusal: the gateway may be busy (stopping, say); the next change or trigger retries.
    update(sdl);
    served.reset();
    served.set({ hash }, 1);
    reloadsTotal.inc({ outcome: 'applied' });
    status.reloads++;
    status.hash = hash;
    status.loadedAt = new Date().toISOString();
    const previousHash = current.hash;
    current = { sdl, hash };
    apiSchema = nextApiSchema;
    log.info({ source, hash: hash.slice(0, 12), previous: previousHash.slice(0, 12) }, 'supergraph reloaded');
    const change: SchemaChange = { apiSchema: nextApiSchema, supergraphSdl: sdl, hash, previousHash, source };
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err }, 'schema change listener failed');
      }
    }
  }

  // One reload at a time, in order; a burst of file events costs one read each, and an unchanged hash stops there.
  const reload = () => (pending = pending.then(apply).catch((err: unknown) => log.error({ err, source }, 'supergraph reload failed')));
  trigger = () => void reload();

  const cleanups: (() => void)[] = [];
  if (!redis && initial.source === resolve(config.supergraphPath)) {
    const path = initial.source;
    let timer: NodeJS.Timeout | undefined;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(trigger, 25);
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dirname(path), (_event, name) => {
        if (name === null || name === basename(path)) soon();
      });
      watcher.on('error', (err) => log.warn({ err, path }, 'fs.watch failed; the 2 s poll keeps watching'));
    } catch (err) {
      log.warn({ err, path }, 'fs.watch unavailable; polling the supergraph file every 2 s');
    }
    watchFile(path, { interval: 2_000 }, soon);
    cleanups.push(() => {
      clearTimeout(timer);
      watcher?.close();
      unwatchFile(path);
    });
  }

  return {
    source,
    hook: async ({ update: u }) => {
      update = u;
      // Catch up with a change made while the gateway was loading (after its initial read).
      setTimeout(() => trigger(), 0);
      return { supergraphSdl: initial.sdl };
    },
    status: () => ({ ...status }),
    sdl: () => current.sdl,
    apiSchema: () => (apiSchema ??= apiSchemaOf(current.sdl)),
    onSchemaChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload,
    async close() {
      update = undefined;
      trigger = () => {};
      for (const c of cleanups) c();
      await pending;
      await redis?.close();
    },
  };
}
