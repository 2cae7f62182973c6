import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { supergraphHash, writeFileAtomic } from './compose.js';

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
  /** `baseline`: what was served before the first publish; `rollback`: a copy of `restoredVersion`. */
  kind: 'baseline' | 'publish' | 'rollback';
  at: string;
  author: string;
  subgraph?: string;
  restoredVersion?: number;
  forced?: boolean;
  /** sha256 of the supergraph's bytes (as the gateway reports it). */
  hash: string;
  check?: CheckSummary;
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

/**
 * The version `schema:rollback` restores when none is named: the one served before
 * the current one (a rollback entry counts as the version it restored).
 */
export function previousVersion(entries: HistoryEntry[]): HistoryEntry | undefined {
  const current = entries.at(-1);
  if (!current) return undefined;
  const served = current.kind === 'rollback' ? current.restoredVersion! : current.version;
  return entries.filter((e) => e.version < served && e.kind !== 'rollback').at(-1);
}
