import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import { apiSchemaOf, requiresConflicts, supergraphHash } from '@fitsync/composition';
import type { Logger, Metrics, ServiceConfig } from '@fitsync/service-kit';
import { buildASTSchema, parse, type GraphQLSchema } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import { SupergraphError, loadSupergraph, type LoadedSupergraph } from './supergraph.js';
import { watchRedisSupergraph } from './supergraph-redis.js';

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
  refuseRequiresConflicts(sdl);
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

/**
 * Two `@requires` selecting one field with different arguments get the same value from the
 * query planner (see `requiresConflicts`): such a supergraph, composed elsewhere than by
 * `npm run compose`, is refused at load and at reload, as composition refuses it.
 */
function refuseRequiresConflicts(sdl: string) {
  const conflicts = requiresConflicts(sdl);
  if (conflicts.length) throw new SupergraphError(conflicts.map((c) => `${c.code}: ${c.message}`).join('\n'));
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
  // The watchers may fire before `reload` exists (and before the gateway loaded): they go through this.
  let trigger = () => {};
  const origin = await openOrigin(config, log, given, () => trigger());
  try {
    refuseRequiresConflicts(origin.initial.sdl);
  } catch (err) {
    await origin.stopWatching();
    await origin.close();
    throw err;
  }
  const served = new ServedSupergraph(origin.source, origin.initial.sdl, supergraphMetrics(metrics), log);
  let update: ((sdl: string) => void) | undefined;
  let pending: Promise<void> = Promise.resolve();

  async function apply() {
    if (!update) return; // not loaded yet: the initial load reads the source itself
    let sdl: string | null;
    try {
      sdl = await origin.read();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // between an unlink and a rename
      throw err;
    }
    if (sdl === null || served.knows(sdl)) return;
    let apiSchema: GraphQLSchema;
    try {
      apiSchema = validateSupergraph(sdl);
    } catch (err) {
      served.refuse(sdl, err instanceof Error ? err.message : String(err));
      return;
    }
    // Not a refusal: the gateway may be busy (stopping, say); the next change or trigger retries.
    update(sdl);
    served.accept(sdl, apiSchema);
  }

  // One reload at a time, in order; a burst of file events costs one read each, and an unchanged hash stops there.
  const reload = () => (pending = pending.then(apply).catch((err: unknown) => log.error({ err, source: origin.source }, 'supergraph reload failed')));
  trigger = () => void reload();

  return {
    source: origin.source,
    hook: async ({ update: u }) => {
      update = u;
      // Catch up with a change made while the gateway was loading (after its initial read).
      setTimeout(() => trigger(), 0);
      return { supergraphSdl: origin.initial.sdl };
    },
    status: () => served.status(),
    sdl: () => served.sdl,
    apiSchema: () => served.apiSchema(),
    onSchemaChange: (listener) => served.onChange(listener),
    reload,
    async close() {
      update = undefined;
      trigger = () => {};
      await origin.stopWatching();
      await pending;
      await origin.close();
    },
  };
}

function supergraphMetrics(metrics: Metrics) {
  return {
    reloads: new Counter({
      name: 'fitsync_gateway_supergraph_reloads_total',
      help: 'Supergraph changes seen by the gateway, by outcome (applied, refused)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    }),
    served: new Gauge({
      name: 'fitsync_gateway_supergraph_info',
      help: 'The supergraph being served: 1 for its sha256 (hash label)',
      labelNames: ['hash'] as const,
      registers: [metrics.registry],
    }),
  };
}

/** The supergraph served now, what was refused, and who hears of changes. */
class ServedSupergraph {
  #current: { sdl: string; hash: string };
  readonly #status: SupergraphStatus;
  readonly #listeners = new Set<SchemaChangeListener>();
  #apiSchema: GraphQLSchema | undefined; // built on first use: most gateways never ask

  constructor(
    private readonly source: string,
    sdl: string,
    private readonly metrics: ReturnType<typeof supergraphMetrics>,
    private readonly log: Logger,
  ) {
    this.#current = { sdl, hash: supergraphHash(sdl) };
    this.#status = { hash: this.#current.hash, source, loadedAt: new Date().toISOString(), reloads: 0 };
    metrics.served.set({ hash: this.#current.hash }, 1);
  }

  get sdl() {
    return this.#current.sdl;
  }

  status(): SupergraphStatus {
    return { ...this.#status };
  }

  apiSchema(): GraphQLSchema {
    return (this.#apiSchema ??= apiSchemaOf(this.#current.sdl));
  }

  onChange(listener: SchemaChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Served now, or the last one refused: nothing to do. */
  knows(sdl: string): boolean {
    const hash = supergraphHash(sdl);
    return hash === this.#current.hash || hash === this.#status.lastRefused?.hash;
  }

  refuse(sdl: string, reason: string) {
    const hash = supergraphHash(sdl);
    this.metrics.reloads.inc({ outcome: 'refused' });
    this.#status.lastRefused = { hash, source: this.source, at: new Date().toISOString(), reason };
    this.log.error(
      { source: this.source, refused: hash.slice(0, 12), serving: this.#current.hash.slice(0, 12), reason },
      'new supergraph refused; the current one keeps serving',
    );
  }

  /** Records a supergraph the gateway now serves, and tells the listeners. */
  accept(sdl: string, apiSchema: GraphQLSchema) {
    const hash = supergraphHash(sdl);
    this.metrics.served.reset();
    this.metrics.served.set({ hash }, 1);
    this.metrics.reloads.inc({ outcome: 'applied' });
    this.#status.reloads++;
    this.#status.hash = hash;
    this.#status.loadedAt = new Date().toISOString();
    const previousHash = this.#current.hash;
    this.#current = { sdl, hash };
    this.#apiSchema = apiSchema;
    this.log.info({ source: this.source, hash: hash.slice(0, 12), previous: previousHash.slice(0, 12) }, 'supergraph reloaded');
    const change: SchemaChange = { apiSchema, supergraphSdl: sdl, hash, previousHash, source: this.source };
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err }, 'schema change listener failed');
      }
    }
  }
}

/** Where the supergraph is read from, and the watch that calls `changed` when it may have changed. */
interface Origin {
  /** For logs, metrics and `/ready`: a file path, `redis key <key>`, or "given". */
  source: string;
  initial: LoadedSupergraph;
  /** The supergraph there now; null when there is nothing to re-read (a given SDL, one composed on the spot, an empty key). */
  read(): Promise<string | null>;
  /** Stops calling `changed`. */
  stopWatching(): Promise<void>;
  /** Lets go of the connections reads need. */
  close(): Promise<void>;
}

function openOrigin(config: ServiceConfig, log: Logger, given: string | undefined, changed: () => void): Promise<Origin> {
  if (given === undefined && config.supergraphRedisKey) return openRedisOrigin(config, config.supergraphRedisKey, log, changed);
  return openFileOrigin(config, log, given, changed);
}

async function openRedisOrigin(config: ServiceConfig, key: string, log: Logger, changed: () => void): Promise<Origin> {
  if (!config.redisUrl) throw new SupergraphError('SUPERGRAPH_REDIS_KEY is set but REDIS_URL is not');
  const source = `redis key ${key}`;
  const redis = await watchRedisSupergraph(config.redisUrl, key, log, changed);
  let initial: LoadedSupergraph;
  try {
    const stored = await redis.current();
    // An empty key (nothing published yet) starts from the file; the first publish takes over.
    initial = stored !== null ? { sdl: stored, source } : await loadSupergraph(config, log);
  } catch (err) {
    await redis.close();
    throw err;
  }
  if (initial.source !== source) log.warn({ key, file: initial.source }, 'nothing published at the supergraph Redis key yet: serving the file');
  return { source, initial, read: () => redis.current(), stopWatching: async () => {}, close: () => redis.close() };
}

async function openFileOrigin(config: ServiceConfig, log: Logger, given: string | undefined, changed: () => void): Promise<Origin> {
  const initial = await loadSupergraph(config, log, given);
  const path = resolve(config.supergraphPath);
  // A given SDL, or one composed from supergraph.yaml: nothing to watch.
  if (initial.source !== path) return { source: initial.source, initial, read: async () => null, stopWatching: async () => {}, close: async () => {} };
  const stop = watchSupergraphFile(path, log, changed);
  return {
    source: path,
    initial,
    read: () => readFile(path, 'utf8'),
    stopWatching: async () => stop(),
    close: async () => {},
  };
}

/** Calls `changed` (debounced) when the file may have changed; returns how to stop. */
function watchSupergraphFile(path: string, log: Logger, changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(changed, 25);
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
  return () => {
    clearTimeout(timer);
    watcher?.close();
    unwatchFile(path);
  };
}
