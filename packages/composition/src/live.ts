import { Kind, parse, type DocumentNode } from 'graphql';

/**
 * What the running subgraph said about a candidate schema before a publish:
 * - `served`: it serves every field, argument, input field and enum value the candidate declares;
 * - `missing`: it does not serve some of them yet (deploy it first);
 * - `unreachable`: it did not answer `{ _service { sdl } }` (down, wrong URL, wrong SERVICE_SECRET);
 * - `skipped`: not asked (`--skip-live-check`, or a caller that passed no live options).
 */
export interface LiveCheckResult {
  status: 'served' | 'missing' | 'unreachable' | 'skipped';
  /** The URL asked (the subgraph's routing URL, or its `<NAME>_URL`). */
  url?: string;
  /** Coordinates the candidate declares that the running subgraph does not serve, sorted. */
  missing: string[];
  /** Those of `missing` that the candidate adds (the rest were published before and are still not served). */
  added: string[];
  /** Why it was unreachable: `connection refused`, `HTTP 401: Invalid service credential`, ... */
  error?: string;
}

export interface LiveCheckOptions {
  /** Where the subgraph runs; default its routing URL in the composition config. */
  url?: string;
  /** A FitSync service credential (`x-fitsync-service-token`): subgraphs answer no one else. */
  serviceToken: () => Promise<string>;
  /** How long to wait for the answer; default 5 s. */
  timeoutMs?: number;
}

const SERVICE_TOKEN_HEADER = 'x-fitsync-service-token';
const SERVICE_SDL_QUERY = '{ _service { sdl } }';

/**
 * The schema coordinates a subgraph SDL declares and a router may send it:
 * `Type.field`, `Type.field(arg:)`, `Input.field`, `Enum.VALUE`, from type definitions
 * and extensions alike. Read from the AST, so federation directives need no definitions.
 */
export function declaredCoordinates(sdl: string | DocumentNode): Set<string> {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const out = new Set<string>();
  for (const def of doc.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        for (const f of def.fields ?? []) {
          out.add(`${def.name.value}.${f.name.value}`);
          for (const a of f.arguments ?? []) out.add(`${def.name.value}.${f.name.value}(${a.name.value}:)`);
        }
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        for (const f of def.fields ?? []) out.add(`${def.name.value}.${f.name.value}`);
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        for (const v of def.values ?? []) out.add(`${def.name.value}.${v.name.value}`);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Asks a running subgraph for the SDL it serves; throws an Error saying why when it cannot. */
export async function fetchServedSdl(url: string, opts: Pick<LiveCheckOptions, 'serviceToken' | 'timeoutMs'>): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', [SERVICE_TOKEN_HEADER]: await opts.serviceToken() },
      body: JSON.stringify({ query: SERVICE_SDL_QUERY }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
  } catch (err) {
    throw new Error(networkReason(err, opts.timeoutMs ?? 5_000));
  }
  const text = await res.text();
  let body: { data?: { _service?: { sdl?: unknown } } | null; errors?: { message?: string }[] } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const firstError = body?.errors?.[0]?.message;
  if (!res.ok) throw new Error(`HTTP ${res.status}${firstError ? `: ${firstError}` : ''}`);
  const sdl = body?.data?._service?.sdl;
  if (typeof sdl !== 'string') throw new Error(firstError ? `it answered ${firstError}` : 'its answer has no _service.sdl (is it a federation subgraph?)');
  return sdl;
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is it deployed and listening there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  return e.cause?.message ?? e.message ?? String(err);
}

/**
 * Compares a candidate subgraph schema with what the subgraph serves at `url`: every
 * coordinate the candidate declares must be served already, or the gateway would route
 * it to a subgraph that rejects it. `publishedSdl` (the schema published so far) tells
 * which missing coordinates the candidate adds.
 */
export async function checkLiveSubgraph(input: {
  url: string;
  candidateSdl: string;
  publishedSdl: string;
  serviceToken: () => Promise<string>;
  timeoutMs?: number;
}): Promise<LiveCheckResult> {
  let served: Set<string>;
  try {
    served = declaredCoordinates(await fetchServedSdl(input.url, input));
  } catch (err) {
    return { status: 'unreachable', url: input.url, missing: [], added: [], error: err instanceof Error ? err.message : String(err) };
  }
  let published: Set<string>;
  try {
    published = declaredCoordinates(input.publishedSdl);
  } catch {
    published = new Set();
  }
  const missing = [...declaredCoordinates(input.candidateSdl)].filter((c) => !served.has(c)).sort();
  return { status: missing.length ? 'missing' : 'served', url: input.url, missing, added: missing.filter((c) => !published.has(c)) };
}

/** One line per finding, for the terminal. */
export function formatLiveCheck(subgraph: string, r: LiveCheckResult): string {
  switch (r.status) {
    case 'skipped':
      return `${subgraph}: live check skipped (the running subgraph was not asked what it serves)`;
    case 'served':
      return `✔ ${subgraph} at ${r.url} already serves every field of the candidate schema`;
    case 'unreachable':
      return `✖ ${subgraph} at ${r.url} cannot be asked what it serves: ${r.error}`;
    case 'missing': {
      const old = r.missing.filter((c) => !r.added.includes(c));
      const lines = [`✖ ${subgraph} at ${r.url} does not serve ${r.missing.length} coordinate(s) of the candidate schema yet:`];
      if (r.added.length) lines.push(`  new in this schema: ${r.added.join(', ')}`);
      if (old.length) lines.push(`  published before, still not served: ${old.join(', ')}`);
      return lines.join('\n');
    }
  }
}
