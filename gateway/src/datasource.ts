import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { LIVE_MESSAGE_EXTENSION } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, SERVICE_TOKEN_HEADER, type Logger, type ServiceCredentials } from '@fitsync/service-kit';
import { GraphQLError, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import type { GatewayContext } from './context.js';
import { entitySelection, mergeEntityFetches, splitMergedResult } from './entity-batch.js';
import { dedupeRepresentations, expandEntities } from './representations.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

interface QueuedFetch {
  options: ProcessOptions;
  selection: SelectionSetNode;
  resolve(result: ProcessResult): void;
  reject(err: unknown): void;
}

export type FetchOutcome = 'ok' | 'errors' | 'unavailable';

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  fetcher: Fetcher;
  credentials: ServiceCredentials;
  log: Logger;
  /** Called once per subgraph request with its duration. */
  observe?: (subgraph: string, outcome: FetchOutcome, seconds: number) => void;
}

/** A non-2xx answer whose body was a GraphQL response: its errors are the subgraph's word. */
class SubgraphErrorResponse extends GraphQLError {
  constructor(
    readonly status: number,
    readonly errors: GraphQLFormattedError[],
  ) {
    super(`subgraph answered ${status}`);
  }
}

/**
 * How the gateway talks to one subgraph: signs every request with the gateway's
 * service credential, passes the caller's identity and correlation id along for
 * client operations, and turns a subgraph that cannot answer into a
 * SERVICE_UNAVAILABLE error on the fields it owns instead of failing the request.
 *
 * Fetch failures have to be caught here: @apollo/gateway 2.x pushes whatever
 * `process()` throws into the response as is (a bare `FetchError` would reach the
 * client as an internal error), whereas errors *returned* by `process()` go
 * through its downstream-error path, which keeps `extensions.code` and adds
 * `serviceName`.
 *
 * An entity fetch carries each distinct representation once (see
 * representations.ts); the answer is fanned back out before the gateway sees it.
 * Entity fetches one operation starts at the same moment share one request
 * (see entity-batch.ts).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #opts: SubgraphDataSourceOptions;

  constructor(opts: SubgraphDataSourceOptions) {
    super({ url: opts.url, fetcher: opts.fetcher });
    this.#opts = opts;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const headers = options.request.http!.headers;
    headers.set(SERVICE_TOKEN_HEADER, await this.#opts.credentials.token());
    // Health checks and schema loads have no incoming request, hence no user.
    if ('incomingRequestContext' in options) {
      const { authorization, correlationId } = options.context;
      if (authorization) headers.set('authorization', authorization);
      if (correlationId) headers.set(CORRELATION_HEADER, correlationId);
      // A subscription's primary fetch: the subgraph resolves its field for this message.
      const { liveMessage } = options.context;
      if (liveMessage && options.request.query?.startsWith('subscription')) {
        options.request.extensions = { ...options.request.extensions, [LIVE_MESSAGE_EXTENSION]: liveMessage };
      }
    }
  }

  /** Entity fetches of one client operation (its context object) waiting for the current task to end. */
  readonly #queued = new WeakMap<object, QueuedFetch[]>();

  override process(options: ProcessOptions): Promise<ProcessResult> {
    const selection = 'incomingRequestContext' in options ? entitySelection(options.request.query, options.request.variables) : undefined;
    if (selection === undefined) return this.#send(options);
    return new Promise((resolve, reject) => {
      const key = options.context;
      let queue = this.#queued.get(key);
      if (!queue) {
        const fetches: QueuedFetch[] = (queue = []);
        this.#queued.set(key, fetches);
        // @apollo/gateway starts the fetches of a parallel plan node synchronously, one after the
        // other: whatever has arrived once the current task is done goes out together.
        queueMicrotask(() => {
          this.#queued.delete(key);
          this.#flush(fetches).catch((err) => fetches.forEach((f) => f.reject(err)));
        });
      }
      queue.push({ options, selection, resolve, reject });
    });
  }

  async #flush(fetches: QueuedFetch[]): Promise<void> {
    if (fetches.length === 1) {
      fetches[0].resolve(await this.#send(fetches[0].options));
      return;
    }
    const deduped = fetches.map((f) => dedupeRepresentations(f.options.request.variables!.representations));
    const merged = mergeEntityFetches(
      fetches.map((f, i) => ({ selection: f.selection, representations: deduped[i]?.unique ?? (f.options.request.variables!.representations as unknown[]) })),
      fetches[0].options.request.operationName,
    );
    const first = fetches[0].options;
    const result = await this.#send({
      ...first,
      request: { ...first.request, query: merged.query, operationName: merged.operationName, variables: merged.variables },
    });
    const parts = splitMergedResult(result, fetches.length);
    fetches.forEach((f, i) => {
      const part = deduped[i] ? expandEntities(parts[i], deduped[i]) : parts[i];
      f.resolve(part);
    });
  }

  /** One HTTP request to the subgraph, timed; failures become errors in the result. */
  async #send(options: ProcessOptions): Promise<ProcessResult> {
    const { name, observe } = this.#opts;
    const started = performance.now();
    const done = (outcome: FetchOutcome) => observe?.(name, outcome, (performance.now() - started) / 1000);
    const deduped = dedupeRepresentations(options.request.variables?.representations);
    if (deduped) options.request.variables = { ...options.request.variables, representations: deduped.unique };
    try {
      const response = await super.process(options);
      done(response.errors?.length ? 'errors' : 'ok');
      return deduped ? expandEntities(response, deduped) : response;
    } catch (err) {
      if (err instanceof SubgraphErrorResponse) {
        done('errors');
        return { errors: err.errors };
      }
      done('unavailable');
      const correlationId = 'incomingRequestContext' in options ? options.context.correlationId : undefined;
      this.#opts.log.warn({ subgraph: name, url: this.url, correlationId, reason: describe(err) }, 'subgraph unavailable');
      return {
        errors: [
          {
            message: `The ${name} service is unavailable`,
            extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, service: name },
          },
        ],
      };
    }
  }

  /**
   * Non-2xx answers. A GraphQL body (a subgraph refusing a request, 400 or 401)
   * keeps its errors; anything else (a proxy's 502 page, a 404 at a wrong routing
   * URL) means the subgraph is not there to answer.
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const body = await this.parseBody(response).catch(() => undefined);
    const errors = typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
    if (Array.isArray(errors) && errors.length > 0) return new SubgraphErrorResponse(response.status, errors as GraphQLFormattedError[]);
    return new GraphQLError(`${this.#opts.name} answered HTTP ${response.status} ${response.statusText}`);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
