import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphFiles } from '../publish.js';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const SUBGRAPHS = ['users', 'training', 'schedule', 'progress', 'notifications'];

export interface GraphCopy {
  dir: string;
  files: GraphFiles;
  /** The schedule subgraph's schema file in the copy. */
  scheduleFile: string;
  read(path: string): Promise<string>;
  /** Writes a candidate schema next to the copy and returns its path. */
  candidate(name: string, sdl: string): Promise<string>;
  dispose(): Promise<void>;
}

/**
 * A copy of the repository's graph in a temp folder: supergraph.yaml, the subgraph
 * schemas, supergraph.graphql, api-schema.graphql and the operations. Tests change
 * the copy, never the real files.
 */
export async function copyGraph(): Promise<GraphCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'fitsync-schema-'));
  await cp(join(REPO, 'supergraph.yaml'), join(dir, 'supergraph.yaml'));
  for (const name of SUBGRAPHS) {
    await mkdir(join(dir, 'subgraphs', name), { recursive: true });
    await cp(join(REPO, 'subgraphs', name, 'schema.graphql'), join(dir, 'subgraphs', name, 'schema.graphql'));
  }
  await cp(join(REPO, 'supergraph.graphql'), join(dir, 'supergraph.graphql'));
  await cp(join(REPO, 'api-schema.graphql'), join(dir, 'api-schema.graphql'));
  await mkdir(join(dir, 'operations'));
  for (const op of ['ClientDashboard.graphql', 'TrainerDashboard.graphql']) await cp(join(REPO, 'operations', op), join(dir, 'operations', op));
  return {
    dir,
    files: {
      config: join(dir, 'supergraph.yaml'),
      supergraph: join(dir, 'supergraph.graphql'),
      apiSchema: join(dir, 'api-schema.graphql'),
      operations: join(dir, 'operations'),
      history: join(dir, '.schema-history'),
    },
    scheduleFile: join(dir, 'subgraphs', 'schedule', 'schema.graphql'),
    read: (path) => readFile(path, 'utf8'),
    async candidate(name, sdl) {
      const path = join(dir, name);
      await writeFile(path, sdl);
      return path;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The schedule schema with `edit` applied; fails loudly when the text to replace is not there. */
export async function editedSchedule(edit: [string, string]): Promise<string> {
  const sdl = await readFile(join(REPO, 'subgraphs', 'schedule', 'schema.graphql'), 'utf8');
  if (!sdl.includes(edit[0])) throw new Error(`schedule schema has no ${JSON.stringify(edit[0])}`);
  return sdl.replace(edit[0], edit[1]);
}
