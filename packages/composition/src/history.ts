import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { supergraphHash, writeFileAtomic } from './compose.js';
import type { LiveCheckResult } from './live.js';

/** What a check found, kept with the version it let through. */
export interface CheckSummary {
  status: string;
  breaking: number;
  dangerous: number;
  safe: number;
  brokenOperations: string[];
}

export interface HistoryEntry {
  version: number;
  /** `baseline`: what was served before the first publish; `rollback`: a copy of `restoredVersion` (forced and check as for a publish). */
  kind: 'baseline' | 'publish' | 'rollback';
  at: string;
  author: string;
  subgraph?: string;
  restoredVersion?: number;
  forced?: boolean;
  /** sha256 of the supergraph's bytes (as the gateway reports it). */
  hash: string;
  check?: CheckSummary;
  /** A publish: what the running subgraph served when it was published. */
  live?: LiveCheckResult;
  /** File names inside the history folder. */
  supergraphFile: string;
  subgraphsFile: string;
}

export interface Snapshot {
  supergraphSdl: string;
  /** Subgraph name -> schema SDL at that version. */
  subgraphs: Record<string, string>;
}

export type NewEntry = Omit<HistoryEntry, 'version' | 'hash' | 'supergraphFile' | 'subgraphsFile'>;

/**
 * Published supergraphs, one numbered pair of files per version plus `index.json`:
 *
 *     .schema-history/index.json                 every entry, oldest first
 *     .schema-history/0003.supergraph.graphql    byte for byte what was served
 *     .schema-history/0003.subgraphs.json        the subgraph schemas it was composed from
 */
export class SchemaHistory {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  get dir() {
    return this.#dir;
  }

  async entries(): Promise<HistoryEntry[]> {
    const raw = await readFile(join(this.#dir, 'index.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return raw === null ? [] : (JSON.parse(raw) as { entries: HistoryEntry[] }).entries;
  }

  async read(entry: HistoryEntry): Promise<Snapshot> {
    const supergraphSdl = await readFile(join(this.#dir, entry.supergraphFile), 'utf8');
    if (supergraphHash(supergraphSdl) !== entry.hash) throw new Error(`${entry.supergraphFile} does not match the hash recorded for version ${entry.version}`);
    const subgraphs = JSON.parse(await readFile(join(this.#dir, entry.subgraphsFile), 'utf8')) as Record<string, string>;
    return { supergraphSdl, subgraphs };
  }

  /** Stores a snapshot as the next version. Call inside `locked`. */
  async append(entry: NewEntry, snapshot: Snapshot): Promise<HistoryEntry> {
    const entries = await this.entries();
    const version = (entries.at(-1)?.version ?? 0) + 1;
    const stem = String(version).padStart(4, '0');
    const full: HistoryEntry = {
      version,
      ...entry,
      hash: supergraphHash(snapshot.supergraphSdl),
      supergraphFile: `${stem}.supergraph.graphql`,
      subgraphsFile: `${stem}.subgraphs.json`,
    };
    await writeFileAtomic(join(this.#dir, full.supergraphFile), snapshot.supergraphSdl);
    await writeFileAtomic(join(this.#dir, full.subgraphsFile), JSON.stringify(snapshot.subgraphs, null, 2) + '\n');
    await writeFileAtomic(join(this.#dir, 'index.json'), JSON.stringify({ entries: [...entries, full] }, null, 2) + '\n');
    return full;
  }

  /** Runs `fn` holding the history's lock, so two publishes cannot interleave. */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.#dir, { recursive: true });
    const lock = join(this.#dir, 'lock');
    const handle = await open(lock, 'wx').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new Error(`another publish or rollback holds ${lock} (remove it if no such command is running)`);
      throw err;
    });
    try {
      await handle.writeFile(`${process.pid}\n`);
      return await fn();
    } finally {
      await handle.close();
      await rm(lock, { force: true });
    }
  }
}

/** One state on the stack of what was served: the newest entry holding it, and the entry it is a copy of. */
interface Served {
  version: number;
  /** Follows rollbacks to the publish (or baseline) whose supergraph this is. */
  origin: number;
}

/**
 * What was served, as an undo stack, oldest at the bottom and the current version on
 * top: a publish pushes; a rollback to a version still on the stack pops back to it
 * (what was on top of it has been undone and leaves the stack); a rollback to a
 * version no longer on it (named explicitly, or a history written before this stack)
 * pushes it like a publish. Read from the history's order alone, not version numbers.
 */
export function servedStack(entries: HistoryEntry[]): HistoryEntry[] {
  const byVersion = new Map(entries.map((e) => [e.version, e]));
  let stack: Served[] = [];
  for (const e of entries) {
    const origin = originVersion(entries, e).version;
    if (e.kind === 'baseline') stack = [{ version: e.version, origin }];
    else if (e.kind === 'publish') stack.push({ version: e.version, origin });
    else {
      const at = stack.findLastIndex((s) => s.origin === origin);
      if (at >= 0) stack = stack.slice(0, at);
      stack.push({ version: e.version, origin });
    }
  }
  return stack.map((s) => byVersion.get(s.version)!);
}

/** The version being served: the newest entry (every publish and rollback appends one). */
export const servedVersion = (entries: HistoryEntry[]): HistoryEntry | undefined => entries.at(-1);

/**
 * The version `schema:rollback` restores when none is named: the one served before the
 * current one, never one a rollback already undid (publish v2, v3, roll back twice,
 * publish v6: a rollback then restores the version served before v6, not v3).
 */
export function previousVersion(entries: HistoryEntry[]): HistoryEntry | undefined {
  return servedStack(entries).at(-2);
}

/** The version a rollback entry (or any entry) serves the supergraph of: follows rollbacks to their publish or baseline. */
export function originVersion(entries: HistoryEntry[], entry: HistoryEntry): HistoryEntry {
  let at = entry;
  const seen = new Set<number>();
  while (at.kind === 'rollback' && !seen.has(at.version)) {
    seen.add(at.version);
    const next = entries.find((e) => e.version === at.restoredVersion);
    if (!next) break;
    at = next;
  }
  return at;
}
