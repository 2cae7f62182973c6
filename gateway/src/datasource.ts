import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { LIVE_BATCH_HEADER, LIVE_BATCH_MAX, LIVE_MESSAGE_EXTENSION, type LiveBatchEntry } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, SERVICE_TOKEN_HEADER, type BreakerConfig, type Logger, type ServiceCredentials } from '@fitsync/service-kit';
import { GraphQLError, Kind, parse, type DocumentNode, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import CircuitBreaker from 'opossum';
import type { GatewayContext } from './context.js';
import { entitySelection, mergeEntityFetches, splitMergedResult } from './entity-batch.js';
import { dedupeRepresentations, expandEntities } from './representations.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

interface QueuedLive {
  options: ProcessOptions;
  resolve(result: ProcessResult): void;
  reject(err: unknown): void;
}

interface QueuedFetch {
  options: ProcessOptions;
  selection: SelectionSetNode;
  resolve(result: ProcessResult): void;
  reject(err: unknown): void;
}

export type FetchOutcome = 'ok' | 'errors' | 'unavailable' | 'open';
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** A fetcher that takes a deadline per request (see fetcher.ts). */
export type DeadlineFetcher = (url: string, init: Parameters<Fetcher>[1], timeoutMs?: number, safeToRepeat?: boolean) => ReturnType<Fetcher>;

/** A breaker that opens on half the requests failing, over at least five in ten seconds, and probes after five. */
export const DEFAULT_BREAKER: BreakerConfig = { failurePercent: 50, minRequests: 5, windowMs: 10_000, cooldownMs: 5_000 };

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  fetcher: DeadlineFetcher;
  credentials: ServiceCredentials;
  log: Logger;
  /** How long one request to this subgraph may take; default: the fetcher's own deadline. */
  timeoutMs?: number;
  /** The circuit breaker in front of this subgraph (default DEFAULT_BREAKER). */
  breaker?: BreakerConfig;
  /** Called once per subgraph request with its duration ('open': not sent, the breaker is open). */
  observe?: (subgraph: string, outcome: FetchOutcome, seconds: number) => void;
  /** Called when the breaker changes state. */
  onBreakerState?: (subgraph: string, state: BreakerState) => void;
  /**
   * Identical queries to this subgraph in flight at the same moment (same document,
   * variables and caller) are sent once and the answer shared. Never mutations. Default on.
   */
  deduplicate?: boolean;
  /** Called for each request that was not sent because an identical one was in flight. */
  onDeduplicated?: (subgraph: string) => void;
}

/**
 * The options of a health-check request (no client operation: no user, no correlation id).
 * @apollo/gateway does not export the enum `GraphQLDataSourceRequestKind`; 'health check' is its value.
 */
const HEALTH_CHECK = () => ({ kind: 'health check', request: { query: '{ __typename }' }, context: {} }) as unknown as ProcessOptions;

/**
 * The deadline of the request being sent (ms), set on the request by `#sendOnce` and read by
 * `sendRequest`: a symbol, so the request's spreads inside @apollo/gateway carry it and
 * `JSON.stringify` leaves it out of the body. (An AsyncLocalStorage carried it before: using
 * one turns on Node's promise hooks for every promise of the process: about 3% of the
 * gateway process's samples in a bench:subscriptions profile.)
 */
const DEADLINE = Symbol('fitsync.requestDeadline');
/**
 * The request's JSON body (query, variables, operation name), when `#send` has already written
 * it for the in-flight key: `sendRequest` sends that string instead of serialising the same
 * representations a second time (it serialises again if anything added extensions since).
 */
const BODY = Symbol('fitsync.requestBody');
type WithDeadline = { [DEADLINE]?: number; [BODY]?: string };
type GatewayRequest = ProcessOptions['request'];

/** Why a request did not reach an answer: the breaker was open, the operation had no time left, or the subgraph failed. */
class Unavailable extends Error {
  constructor(
    readonly reason: 'open' | 'deadline' | 'failed',
    message: string,
  ) {
    super(message);
  }
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

  readonly #breaker: CircuitBreaker<[() => Promise<ProcessResult>], ProcessResult>;

  constructor(opts: SubgraphDataSourceOptions) {
    super({ url: opts.url, fetcher: (url, init) => opts.fetcher(url, init, opts.timeoutMs) });
    this.#opts = opts;
    // @apollo/gateway's own sendRequest (private in its types, hence assigned here) also builds a
    // node-fetch Request per fetch that only its error hooks would read; this one does without.
    (this as unknown as { sendRequest: SubgraphDataSource['sendRequestWithDeadline'] }).sendRequest = (request, context) =>
      this.sendRequestWithDeadline(request, context);
    const breaker = opts.breaker ?? DEFAULT_BREAKER;
    this.#breaker = new CircuitBreaker((attempt: () => Promise<ProcessResult>) => attempt(), {
      name: `gateway->${opts.name}`,
      // each request has its own deadline, enforced by the fetcher
      timeout: false,
      errorThresholdPercentage: breaker.failurePercent,
      volumeThreshold: breaker.minRequests,
      rollingCountTimeout: breaker.windowMs,
      resetTimeout: breaker.cooldownMs,
      // A subgraph refusing a request with GraphQL errors is a subgraph that answers.
      errorFilter: (err: unknown) => err instanceof SubgraphErrorResponse,
      // opossum's latency percentiles concatenate and sort every latency of the window each time its
      // stats are read, which it does on every failure and every second: at 1,000 requests a second,
      // a run of timeouts spent seconds of CPU sorting (bench:subscriptions). Nothing reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    const changed = (state: BreakerState, message: string, level: 'warn' | 'info') => () => {
      opts.log[level]({ subgraph: opts.name, breaker: state }, message);
      opts.onBreakerState?.(opts.name, state);
    };
    this.#breaker.on('open', changed('open', 'circuit opened: requests to this subgraph fail fast', 'warn'));
    const halfOpen = changed('halfOpen', 'circuit half-open: probing this subgraph', 'info');
    this.#breaker.on('halfOpen', () => {
      halfOpen();
      void this.#probe();
    });
    this.#breaker.on('close', changed('closed', 'circuit closed: the subgraph answers again', 'info'));
  }

  /**
   * After the cool-down the gateway asks the subgraph itself (`{ __typename }` with its
   * credential, within the subgraph's deadline) rather than letting a client's request find
   * out: the breaker closes on an answer and opens again on none, and no client's operation
   * waits on a subgraph that may still hang (opossum would let the next client request
   * through as the probe). Client requests fail fast until the breaker has closed.
   */
  async #probe(): Promise<void> {
    try {
      await this.#breaker.fire(() => super.process(HEALTH_CHECK()));
    } catch {
      // No answer: the breaker is open again, and probes after the next cool-down.
    }
  }

  /** Stops the breaker's timers (the supergraph moved on, or the gateway is closing). */
  shutdown(): void {
    this.#breaker.shutdown();
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

  /**
   * @apollo/gateway's `sendRequest`, with the request's deadline (see DEADLINE) handed to the
   * fetcher: one JSON body, one fetch, a non-2xx answer through `errorFromResponse`, the body
   * parsed by `parseBody`.
   */
  private async sendRequestWithDeadline(request: GatewayRequest & WithDeadline, _context: GatewayContext): Promise<ProcessResult> {
    const { http, ...withoutHttp } = request;
    if (!http) throw new Error("Internal error: Only 'http' requests are supported.");
    if (!request.query) throw new Error('Missing query');
    const written = request[BODY];
    const body = written !== undefined && request.extensions === undefined ? written : JSON.stringify(withoutHttp);
    const init = { method: http.method, headers: Object.fromEntries(http.headers), body };
    // A query may be sent again if the pooled connection it went out on was found closed; a mutation never.
    const response = await this.#opts.fetcher(http.url, init, request[DEADLINE] ?? this.#opts.timeoutMs, !/^\s*mutation\b/.test(request.query));
    if (!response.ok) throw await this.errorFromResponse(response);
    const answer = await this.parseBody(response);
    if (typeof answer !== 'object' || answer === null) throw new Error(`Expected JSON response body, but received: ${String(answer)}`);
    return { ...answer, http: response };
  }

  /** Entity fetches of one client operation (its context object) waiting for the current task to end. */
  readonly #queued = new WeakMap<object, QueuedFetch[]>();

  override process(options: ProcessOptions): Promise<ProcessResult> {
    if (this.#batchLive && isLivePrimaryFetch(options)) return this.#queueLive(options);
    const selection = 'incomingRequestContext' in options ? entitySelection(options.request.query, options.request.variables) : undefined;
    if (selection === undefined) return this.#send(options).catch((err: unknown) => this.#unavailable(options, err));
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
          this.#flush(fetches).catch((err: unknown) => {
            if (err instanceof Unavailable) fetches.forEach((f) => f.resolve(this.#unavailable(f.options, err)));
            else fetches.forEach((f) => f.reject(err));
          });
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

  /**
   * Live batches (LIVE_BATCH_HEADER): on until the subgraph answers one with something other
   * than one result per entry (a subgraph not built on service-kit), then off for this data source.
   */
  #batchLive = true;
  /** Primary fetches of live messages waiting for the current turn of the event loop to end. */
  #liveQueue: QueuedLive[] = [];

  /**
   * A live message's primary fetch. Those that reach here in one turn of the event loop (the
   * events a burst of subgraph answers lets through the gateway's limiter together) go to the
   * subgraph as one live batch: one HTTP request for many messages, each still resolved by the
   * subgraph for its own caller. Alone, it is sent as it always was.
   */
  #queueLive(options: ProcessOptions): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
      if (this.#liveQueue.length === 0) {
        setImmediate(() => {
          const queued = this.#liveQueue;
          this.#liveQueue = [];
          for (let i = 0; i < queued.length; i += LIVE_BATCH_MAX) void this.#flushLive(queued.slice(i, i + LIVE_BATCH_MAX));
        });
      }
      this.#liveQueue.push({ options, resolve, reject });
    });
  }

  async #flushLive(queued: QueuedLive[]): Promise<void> {
    const one = (q: (typeof queued)[number]) =>
      this.#send(q.options)
        .catch((err: unknown) => this.#unavailable(q.options, err))
        .then(
          (result) => q.resolve(result),
          (err: unknown) => q.reject(err),
        );
    if (queued.length === 1 || !this.#batchLive) return void (await Promise.all(queued.map(one)));
    let results: ProcessResult[] | 'unsupported';
    try {
      results = await this.#sendLiveBatch(queued.map((q) => q.options));
    } catch (err) {
      queued.forEach((q) => q.resolve(this.#unavailable(q.options, err)));
      return;
    }
    if (results === 'unsupported') {
      this.#batchLive = false;
      this.#opts.log.warn({ subgraph: this.#opts.name }, 'subgraph does not answer live batches: live messages go to it one request each');
      return void (await Promise.all(queued.map(one)));
    }
    queued.forEach((q, i) => q.resolve(results[i]));
  }

  /**
   * One live batch, through the breaker and within the subgraph's deadline and the earliest
   * of the operations' own, timed as one request. 'unsupported' when the answer is not one
   * GraphQL result per entry; throws `Unavailable` when there is no answer.
   */
  async #sendLiveBatch(batch: ProcessOptions[]): Promise<ProcessResult[] | 'unsupported'> {
    const { name } = this.#opts;
    const { done, timeoutMs } = this.#admit(batch.map((o) => o.context.deadline));
    const entries: LiveBatchEntry[] = batch.map(({ request, context }) => ({
      query: request.query!,
      operationName: request.operationName ?? null,
      variables: request.variables ?? null,
      extensions: { [LIVE_MESSAGE_EXTENSION]: context.liveMessage! },
      ...(context.authorization ? { authorization: context.authorization } : {}),
      ...(context.correlationId ? { correlationId: context.correlationId } : {}),
    }));
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SERVICE_TOKEN_HEADER]: await this.#opts.credentials.token(), [LIVE_BATCH_HEADER]: '1' },
      body: JSON.stringify(entries),
    };
    try {
      const response = await this.#breaker.fire(async () => {
        // Subscription fields resolved for a live message: as safe to send again as a query.
        const res = await this.#opts.fetcher(this.#opts.url, init, timeoutMs, true);
        // A subgraph that refuses the batch as such (400/404/415) answers: not a failure for the breaker.
        if (!res.ok && res.status >= 500) throw new Error(`${name} answered HTTP ${res.status} to a live batch`);
        return { ok: res.ok, body: res.ok ? await res.json().catch(() => undefined) : undefined } as unknown as ProcessResult;
      });
      const { ok, body } = response as unknown as { ok: boolean; body: unknown };
      if (!ok || !Array.isArray(body) || body.length !== batch.length || !body.every((r) => typeof r === 'object' && r !== null)) {
        done('errors');
        return 'unsupported';
      }
      done((body as ProcessResult[]).some((r) => r.errors?.length) ? 'errors' : 'ok');
      return body as ProcessResult[];
    } catch (err) {
      const open = (err as { code?: unknown }).code === 'EOPENBREAKER';
      done(open ? 'open' : 'unavailable');
      if (!open) this.#opts.log.warn({ subgraph: name, url: this.url, reason: describe(err) }, 'subgraph unavailable (live batch)');
      throw new Unavailable(open ? 'open' : 'failed', describe(err));
    }
  }

  /** Queries in flight, by what makes them the same request: see `inflightKey`. */
  readonly #inflight = new Map<string, Promise<ProcessResult>>();

  /**
   * `#sendOnce`, unless an identical query is already in flight: then its answer is shared
   * (a copy of it: @apollo/gateway merges later fetches into the objects it is given).
   */
  #send(options: ProcessOptions): Promise<ProcessResult> {
    const deduped = dedupeRepresentations(options.request.variables?.representations);
    // A copy: the caller's options keep every representation, so that the errors of a request that
    // reaches no answer name each emptied field (`#unavailable` reads them), not each distinct one.
    const sent: ProcessOptions = deduped
      ? { ...options, request: { ...options.request, variables: { ...options.request.variables, representations: deduped.unique } } }
      : options;
    const key = this.#opts.deduplicate === false ? undefined : inflightKey(sent);
    if (key === undefined) return this.#sendOnce(options, sent, deduped);
    const pending = this.#inflight.get(key);
    if (pending) {
      this.#opts.onDeduplicated?.(this.#opts.name);
      return pending.then((result) => structuredClone(result));
    }
    const sending = this.#sendOnce(options, sent, deduped);
    this.#inflight.set(key, sending);
    const forget = () => void this.#inflight.delete(key);
    sending.then(forget, forget);
    return sending;
  }

  /**
   * What every request to the subgraph starts with (`#sendOnce`, `#sendLiveBatch`): its timer
   * (`done(outcome)` records it once), and its admission. Refused with `Unavailable` when an
   * operation it serves has no time left, or while the breaker is half-open (the gateway's own
   * probe is finding out, see #probe). `timeoutMs`: the subgraph's deadline, or what is left of
   * the earliest operation's if that is sooner.
   */
  #admit(deadlines: readonly (number | undefined)[]): { done: (outcome: FetchOutcome) => void; timeoutMs: number | undefined } {
    const { name, observe } = this.#opts;
    const started = performance.now();
    const done = (outcome: FetchOutcome) => observe?.(name, outcome, (performance.now() - started) / 1000);
    let left = Infinity;
    for (const deadline of deadlines) if (deadline !== undefined) left = Math.min(left, deadline - started);
    if (left <= 0) {
      done('unavailable');
      throw new Unavailable('deadline', 'the operation had no time left');
    }
    if (this.#breaker.halfOpen) {
      done('open');
      throw Object.assign(new Unavailable('open', 'the circuit is half-open: the gateway is probing this subgraph'), { code: 'EOPENBREAKER' });
    }
    return { done, timeoutMs: Number.isFinite(left) ? Math.min(this.#opts.timeoutMs ?? Infinity, left) : this.#opts.timeoutMs };
  }

  /**
   * One HTTP request to the subgraph, through its breaker and within both deadlines (the
   * subgraph's own, and what is left of the operation's), timed. A subgraph's GraphQL errors
   * come back in the result; not reaching an answer throws `Unavailable`.
   */
  async #sendOnce(options: ProcessOptions, sent: ProcessOptions, deduped: ReturnType<typeof dedupeRepresentations>): Promise<ProcessResult> {
    const { name } = this.#opts;
    const context = 'incomingRequestContext' in options ? options.context : undefined;
    const { done, timeoutMs } = this.#admit([context?.deadline]);
    try {
      if (timeoutMs !== undefined) (sent.request as WithDeadline)[DEADLINE] = timeoutMs;
      const response = await this.#breaker.fire(() => super.process(sent));
      done(response.errors?.length ? 'errors' : 'ok');
      return deduped ? expandEntities(response, deduped) : response;
    } catch (err) {
      if (err instanceof SubgraphErrorResponse) {
        done('errors');
        const result: ProcessResult = { errors: err.errors };
        return result;
      }
      const open = (err as { code?: unknown }).code === 'EOPENBREAKER';
      done(open ? 'open' : 'unavailable');
      if (!open) this.#opts.log.warn({ subgraph: name, url: this.url, correlationId: context?.correlationId, reason: describe(err) }, 'subgraph unavailable');
      throw new Unavailable(open ? 'open' : 'failed', describe(err));
    }
  }

  /**
   * What a fetch that reached no answer gives the gateway: SERVICE_UNAVAILABLE on each field
   * it would have filled, with the path of that field (`_entities` paths are rewritten by
   * @apollo/gateway into the client's: `["me", "progress"]`), so a client can tell which part
   * of its screen is missing. Nothing about the subgraph's address or the failure's detail.
   */
  #unavailable(options: ProcessOptions, err: unknown): ProcessResult {
    if (!(err instanceof Unavailable)) throw err;
    const { name } = this.#opts;
    const message = err.reason === 'open' ? `The ${name} service is unavailable (circuit open)` : `The ${name} service is unavailable`;
    const extensions = { code: ErrorCode.SERVICE_UNAVAILABLE, service: name, ...(err.reason === 'deadline' ? { reason: 'operation deadline' } : {}) };
    const paths = emptiedPaths(options);
    if (paths.length === 0) return { errors: [{ message, extensions }] };
    return { errors: paths.map((path) => ({ message, path, extensions })) };
  }

  /** 'closed', 'open' or 'halfOpen'. */
  get breakerState(): BreakerState {
    return this.#breaker.opened ? 'open' : this.#breaker.halfOpen ? 'halfOpen' : 'closed';
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

/** A subscription's primary fetch for a live message (see willSendRequest): what a live batch carries. */
function isLivePrimaryFetch(options: ProcessOptions): boolean {
  return 'incomingRequestContext' in options && options.context.liveMessage !== undefined && options.request.query?.startsWith('subscription') === true;
}

/**
 * What makes two subgraph requests the same one: the document and its variables, and who
 * asks (the caller's token, and for a subscription's fetch the message it resolves).
 * Undefined for what must never be shared: mutations, and requests outside a client operation.
 */
function inflightKey(options: ProcessOptions): string | undefined {
  if (!('incomingRequestContext' in options)) return undefined;
  const { request } = options;
  const query = request.query ?? '';
  const operation = 'document' in options ? options.document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) : undefined;
  const kind = operation && operation.kind === Kind.OPERATION_DEFINITION ? operation.operation : /^\s*\{/.test(query) ? 'query' : /^\s*(\w+)/.exec(query)?.[1];
  if (kind !== 'query') return undefined;
  const { authorization, liveMessage } = options.context;
  // The body the subgraph gets, written once: the key, and what `sendRequest` sends (BODY).
  const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
  (request as WithDeadline)[BODY] = body;
  return `${JSON.stringify([authorization ?? null, liveMessage ?? null])}${body}`;
}

/**
 * The response paths a subgraph request would have filled, in the subgraph's terms: each
 * root field (`["me"]`), or each field of each entity (`["_entities", 0, "progress"]`).
 */
function emptiedPaths(options: ProcessOptions): (string | number)[][] {
  let document: DocumentNode | undefined = 'document' in options ? options.document : undefined;
  try {
    document ??= options.request.query ? parse(options.request.query) : undefined;
  } catch {
    return [];
  }
  const operation = document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const paths: (string | number)[][] = [];
  const representations = options.request.variables?.representations;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value === '__typename') continue;
    const key = selection.alias?.value ?? selection.name.value;
    if (selection.name.value !== '_entities' || !Array.isArray(representations) || !selection.selectionSet) {
      paths.push([key]);
      continue;
    }
    representations.forEach((rep: unknown, i) => {
      const typename = (rep as { __typename?: unknown })?.__typename;
      for (const fragment of selection.selectionSet!.selections) {
        const fields =
          fragment.kind === Kind.INLINE_FRAGMENT && (!fragment.typeCondition || fragment.typeCondition.name.value === typename)
            ? fragment.selectionSet.selections
            : fragment.kind === Kind.FIELD
              ? [fragment]
              : [];
        for (const f of fields) if (f.kind === Kind.FIELD && f.name.value !== '__typename') paths.push([key, i, f.alias?.value ?? f.name.value]);
      }
    });
  }
  return paths;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
