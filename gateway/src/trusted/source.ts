import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadKnownOperations, manifestOperations, type KnownOperation } from '@fitsync/composition';
import type { Logger, Metrics, ServiceConfig, TrustedDocumentsMode } from '@fitsync/service-kit';
import type { ParseOptions } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import { DocumentGate, TrustedRegistry } from './registry.js';
import { watchRedisManifests, type RedisManifestsWatch } from './redis.js';

export interface TrustedDocumentsStatus {
  mode: TrustedDocumentsMode;
  /** The folder read (TRUSTED_DOCUMENTS_DIR), and the Redis hash when REDIS_URL is set. */
  sources: string[];
  documents: number;
  /** sha256 over the registered ids. */
  hash: string;
  loadedAt: string;
  reloads: number;
  /** The last registry refused, and why: the previous one kept serving. */
  lastRefused?: { at: string; reason: string };
}

export interface TrustedDocuments {
  /** What every transport asks before running a request. */
  gate: DocumentGate;
  registry(): TrustedRegistry;
  status(): TrustedDocumentsStatus;
  /** Reads the folder (and Redis) now; resolves once the new registry is in place or refused. The watchers call this; tests may too. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** How often the folder is compared with what was loaded, for file systems where fs.watch says nothing. */
const POLL_MS = 2_000;
/** How long start-up waits for Redis before serving the folder alone. */
const REDIS_WAIT_MS = 2_000;

/**
 * The trusted documents the gateway serves: every document under TRUSTED_DOCUMENTS_DIR
 * (`operations/*.graphql`, and the `*.graphql` files and persisted-query manifests under
 * `operations/trusted/`, exactly what `schema:check` protects), plus, with REDIS_URL, the
 * manifests registered in Redis. Reloaded like the supergraph: on fs.watch events of the
 * folder and a 2 s poll, and on every Redis announcement. A change that does not load (a
 * document that does not parse, a manifest id that is not its body's sha256) is refused
 * with an error log and the current registry keeps serving. A registry that does not load
 * at start-up stops the gateway.
 */
export async function openTrustedDocuments(config: ServiceConfig, log: Logger, metrics: Metrics, parseOptions: ParseOptions): Promise<TrustedDocuments> {
  const { mode } = config.trustedDocuments;
  const dir = resolve(config.trustedDocuments.dir);
  const m = trustedMetrics(metrics);
  let trigger = () => {};
  const redis = config.redisUrl ? watchRedisManifests(config.redisUrl, config.eventsPrefix, log, () => trigger()) : undefined;
  const sources = [dir, ...(redis ? [`redis hash ${redis.key}`] : [])];
  // Start from what Redis holds when it answers soon; else from the folder, and catch up when it does.
  if (redis && !(await redis.connected(REDIS_WAIT_MS)))
    log.warn({ key: redis.key }, 'trusted documents: Redis not reachable at start-up; serving the folder until it is');

  const load = async () => new TrustedRegistry(await loadOperations(dir, redis), parseOptions);
  let current: TrustedRegistry;
  let signature: string;
  try {
    signature = await folderSignature(dir);
    current = await load();
  } catch (err) {
    await redis?.close();
    throw new Error(`the trusted documents (${sources.join(', ')}) do not load: ${err instanceof Error ? err.message : String(err)}`);
  }
  const status: TrustedDocumentsStatus = { mode, sources, documents: current.size, hash: current.hash, loadedAt: new Date().toISOString(), reloads: 0 };
  m.documents.set(current.size);
  if (mode === 'enforce' && current.size === 0) log.warn({ sources }, 'TRUSTED_DOCUMENTS=enforce with no registered document: every operation will be refused');

  async function apply() {
    signature = await folderSignature(dir);
    let next: TrustedRegistry;
    try {
      next = await load();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (status.lastRefused?.reason !== reason) {
        m.reloads.inc({ outcome: 'refused' });
        log.error({ sources, reason }, 'new trusted documents refused; the current registry keeps serving');
      }
      status.lastRefused = { at: new Date().toISOString(), reason };
      return;
    }
    if (next.hash === current.hash) return;
    const previous = current;
    current = next;
    Object.assign(status, { documents: next.size, hash: next.hash, loadedAt: new Date().toISOString(), reloads: status.reloads + 1 });
    m.documents.set(next.size);
    m.reloads.inc({ outcome: 'applied' });
    log.info({ documents: next.size, previous: previous.size, hash: next.hash.slice(0, 12) }, 'trusted documents reloaded');
  }
  let pending: Promise<void> = Promise.resolve();
  const reload = () => (pending = pending.then(apply).catch((err: unknown) => log.error({ err, sources }, 'trusted documents reload failed')));
  trigger = () => void reload();
  const stopWatching = watchFolder(
    dir,
    log,
    () => trigger(),
    async () => (await folderSignature(dir)) !== signature,
  );

  const gate = new DocumentGate(mode, () => current, {
    untrusted: (outcome, transport) => m.untrusted.inc({ outcome, transport }),
    unknownId: (transport) => m.unknownIds.inc({ transport }),
  });
  return {
    gate,
    registry: () => current,
    status: () => ({ ...status }),
    reload,
    async close() {
      trigger = () => {};
      stopWatching();
      await pending;
      await redis?.close();
    },
  };
}

async function loadOperations(dir: string, redis: RedisManifestsWatch | undefined): Promise<KnownOperation[]> {
  const ops = await loadKnownOperations(dir);
  if (redis) {
    const manifests = await redis.current();
    for (const client of Object.keys(manifests).sort()) ops.push(...manifestOperations(manifests[client], `redis ${redis.key}#${client}`));
  }
  return ops;
}

/** Names, sizes and modification times of every file under `dir`: what the poll compares. */
async function folderSignature(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const files = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        // parentPath from Node 20.12; `path` before it.
        const path = join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name);
        const s = await stat(path).catch(() => undefined); // gone between readdir and stat: the next poll sees it
        return s ? `${path}:${s.size}:${s.mtimeMs}` : '';
      }),
  );
  return files.sort().join('\n');
}

/** Calls `changed` (debounced) on fs.watch events under `dir`, and when the poll finds it `differs`; returns how to stop. */
function watchFolder(dir: string, log: Logger, changed: () => void, differs: () => Promise<boolean>): () => void {
  let timer: NodeJS.Timeout | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(changed, 25);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true }, soon);
    watcher.on('error', (err) => log.warn({ err, dir }, 'fs.watch failed; the 2 s poll keeps watching the trusted documents'));
  } catch (err) {
    // No folder yet (created later), or no recursive watch here: the poll sees it.
    log.debug({ err, dir }, 'fs.watch unavailable; polling the trusted documents every 2 s');
  }
  const poll = setInterval(() => {
    differs().then(
      (yes) => yes && soon(),
      () => {},
    );
  }, POLL_MS);
  poll.unref();
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
    watcher?.close();
  };
}

function trustedMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    untrusted: new Counter({
      name: 'fitsync_gateway_untrusted_documents_total',
      help: 'Full documents outside the trusted registry, by outcome (served: TRUSTED_DOCUMENTS=allow; refused: enforce) and transport (http, sse, ws)',
      labelNames: ['outcome', 'transport'] as const,
      registers,
    }),
    unknownIds: new Counter({
      name: 'fitsync_gateway_unknown_document_ids_total',
      help: 'Document ids (documentId or APQ hashes) that named no known document, by transport',
      labelNames: ['transport'] as const,
      registers,
    }),
    documents: new Gauge({ name: 'fitsync_gateway_trusted_documents', help: 'Documents in the trusted registry now', registers }),
    reloads: new Counter({
      name: 'fitsync_gateway_trusted_documents_reloads_total',
      help: 'Changes to the trusted registry seen by the gateway, by outcome (applied, refused)',
      labelNames: ['outcome'] as const,
      registers,
    }),
  };
}
