import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose, formatProblems, loadSupergraphConfig } from '@fitsync/composition';
import { urlVariable, type Logger, type ServiceConfig } from '@fitsync/service-kit';

export interface LoadedSupergraph {
  sdl: string;
  /** Where it came from, for logs and `/ready`. */
  source: string;
}

export class SupergraphError extends Error {
  override name = 'SupergraphError';
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The repository's own composition config, for `npm start -w gateway` run from gateway/. */
const REPO_SUPERGRAPH_YAML = fileURLToPath(new URL('../../supergraph.yaml', import.meta.url));

/**
 * The supergraph to serve: the SDL given (tests), else the file SUPERGRAPH_PATH
 * names. Outside production a missing file is composed on the spot from
 * supergraph.yaml, so a schema edit needs no separate `npm run compose` while
 * developing; production serves only a supergraph composed and checked beforehand.
 */
export async function loadSupergraph(config: ServiceConfig, log: Logger, given?: string): Promise<LoadedSupergraph> {
  if (given !== undefined) return { sdl: given, source: 'given' };
  const path = resolve(config.supergraphPath);
  if (await exists(path)) return { sdl: await readFile(path, 'utf8'), source: path };
  if (config.production) {
    throw new SupergraphError(`supergraph not found at ${path} (SUPERGRAPH_PATH): compose it with \`npm run compose\` and ship it with the gateway`);
  }
  const candidates = [join(dirname(path), 'supergraph.yaml'), REPO_SUPERGRAPH_YAML];
  let yaml: string | undefined;
  for (const c of candidates) {
    if (await exists(c)) {
      yaml = c;
      break;
    }
  }
  if (!yaml) throw new SupergraphError(`supergraph not found at ${path} (SUPERGRAPH_PATH), and no supergraph.yaml to compose one from`);
  log.warn({ missing: path, config: yaml }, 'no supergraph file: composing from supergraph.yaml (development only)');
  const result = compose(await loadSupergraphConfig(yaml));
  if (!result.ok) {
    throw new SupergraphError(`composing ${yaml} failed with ${result.problems.length} problem(s):\n${formatProblems(result.problems)}`);
  }
  return { sdl: result.supergraphSdl, source: `composed from ${yaml}` };
}

/**
 * Where the gateway sends a subgraph's requests: an explicit override, else its
 * `<NAME>_URL` variable when set (`ServiceConfig.subgraphUrlOverrides`), else the
 * supergraph's routing URL.
 */
export function subgraphUrl(
  name: string,
  routingUrl: string | undefined,
  overrides: Partial<Record<string, string>>,
  fromEnv: Readonly<Record<string, string>>,
): string {
  const url = overrides[name] ?? fromEnv[urlVariable(name)] ?? routingUrl;
  if (!url) throw new SupergraphError(`subgraph "${name}" has no routing URL in the supergraph and ${urlVariable(name)} is not set`);
  return url;
}
