import CircuitBreaker from 'opossum';
import { GraphQLError, Kind, OperationTypeNode, parse } from 'graphql';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { CORRELATION_HEADER, SERVICE_TOKEN_HEADER, createServiceCredentials, serviceSecrets, type ServiceCredentials } from './auth.js';
import type { ServiceConfig, SubgraphName } from './config.js';
import { ErrorCode, serviceUnavailable } from './errors.js';
import { createLogger } from './logger.js';
import { BREAKER_VALUES, serviceCallMetrics, type CallOutcome, type Metrics } from './metrics.js';

/**
 * An operation one service sends another: its text and a zod schema of its `data`,
 * so the answer is checked before a resolver relies on it. Queries are retried on
 * transient failures; mutations never are (they could run twice).
 */
export interface ServiceOperation<TData, TVariables extends Record<string, unknown>> {
  readonly text: string;
  readonly kind: OperationTypeNode;
  readonly name: string;
  readonly data: z.ZodType<TData>;
  /** Phantom: only carries the variables' type. */
  readonly __variables?: TVariables;
}

/** Declares a typed operation; the document is parsed once, here, at start-up. */
export function serviceOperation<TVariables extends Record<string, unknown> = Record<string, never>>() {
  return <TData>(text: string, data: z.ZodType<TData>): ServiceOperation<TData, TVariables> => {
    const doc = parse(text);
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (!op || op.kind !== Kind.OPERATION_DEFINITION) throw new Error('a service operation needs one operation definition');
    return { text, kind: op.operation, name: op.name?.value ?? 'anonymous', data };
  };
}

/** Who a call acts for: the end user's Authorization header and the request's correlation id. */
export interface CallerIdentity {
  authorization?: string;
  correlationId: string;
}

/** A GraphQL error the target answered with: the target's word on this input. */
export class RemoteGraphQLError extends Error {
  override name = 'RemoteGraphQLError';
  constructor(
    readonly service: SubgraphName,
    readonly code: string,
    message: string,
    readonly path?: readonly (string | number)[],
  ) {
    super(message);
  }
}

/** The target could not answer (down, timed out, 5xx, circuit open, unreadable answer). */
class TransientError extends Error {
  override name = 'TransientError';
}

const OPEN_CIRCUIT = 'EOPENBREAKER';

/** How a call that threw ended, for its metric: the error thrown is the caller's, the outcome ours. */
const outcomes = new WeakMap<object, CallOutcome>();
const ended = (err: GraphQLError, outcome: CallOutcome) => {
  outcomes.set(err, outcome);
  return err;
};

export interface ServiceClientOptions {
  /** The calling service: signs the credential. */
  from: string;
  target: SubgraphName;
  /** Where the target listens; read on every call, so a test may fill it in after start-up. */
  url: () => string;
  credentials: ServiceCredentials;
  log?: Logger;
  /** Whole-call deadline, retries included. Default 5 s. */
  timeoutMs?: number;
  /** Extra attempts for queries. Default 2. */
  retries?: number;
  /** First backoff; doubled each retry. Default 100 ms. */
  backoffMs?: number;
  /** Circuit breaker: calls counted before it may open, failure percentage that opens it, how long it stays open. */
  breaker?: { volumeThreshold?: number; errorThresholdPercentage?: number; resetTimeoutMs?: number; rollingWindowMs?: number };
  /** The calling service's registry: each call's duration and the breaker's state go on its /metrics. */
  metrics?: Metrics;
}

/**
 * One typed GraphQL client from a service to another subgraph. Every call carries the
 * service credential, the caller's Authorization and correlation id; every attempt goes
 * through one circuit breaker per target, so a target that keeps failing is not asked
 * again until it has had time to recover. Anything but an answer from the target ends
 * as `SERVICE_UNAVAILABLE`; GraphQL errors of the target come back as `RemoteGraphQLError`
 * (see `remoteErrorToCaller`).
 */
export class ServiceClient {
  readonly target: SubgraphName;
  readonly #opts: Required<Omit<ServiceClientOptions, 'log' | 'breaker' | 'metrics'>> & { log?: Logger };
  readonly #observe: (outcome: CallOutcome, seconds: number) => void;
  readonly #breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;

  constructor(opts: ServiceClientOptions) {
    this.target = opts.target;
    this.#opts = { timeoutMs: 5_000, retries: 2, backoffMs: 100, ...opts };
    const b = opts.breaker ?? {};
    this.#breaker = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
      name: `${opts.from}->${opts.target}`,
      timeout: false, // each attempt has its own deadline, enforced by aborting the request
      volumeThreshold: b.volumeThreshold ?? 5,
      errorThresholdPercentage: b.errorThresholdPercentage ?? 50,
      resetTimeout: b.resetTimeoutMs ?? 10_000,
      rollingCountTimeout: b.rollingWindowMs ?? 10_000,
      // The target answering "no such user" is the target working.
      errorFilter: (err: unknown) => err instanceof RemoteGraphQLError,
      // opossum's latency percentiles concatenate and sort every latency of the window each time its
      // stats are read, which it does on every failure and every second: at 1,000 requests a second,
      // a run of timeouts spent seconds of CPU sorting (bench:subscriptions). Nothing reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    const calls = opts.metrics && serviceCallMetrics(opts.metrics);
    const pair = { caller: opts.from, target: opts.target };
    calls?.breaker.set(pair, BREAKER_VALUES.closed);
    this.#observe = calls ? (outcome, seconds) => calls.duration.observe({ ...pair, outcome }, seconds) : () => undefined;
    this.#breaker.on('open', () => {
      calls?.breaker.set(pair, BREAKER_VALUES.open);
      opts.log?.warn({ target: opts.target }, 'circuit opened: calls to this service fail fast');
    });
    this.#breaker.on('halfOpen', () => {
      calls?.breaker.set(pair, BREAKER_VALUES.halfOpen);
      opts.log?.info({ target: opts.target }, 'circuit half-open: trying the service again');
    });
    this.#breaker.on('close', () => {
      calls?.breaker.set(pair, BREAKER_VALUES.closed);
      opts.log?.info({ target: opts.target }, 'circuit closed');
    });
  }

  /** 'closed', 'open' or 'halfOpen'. */
  get circuit(): 'closed' | 'open' | 'halfOpen' {
    return this.#breaker.opened ? 'open' : this.#breaker.halfOpen ? 'halfOpen' : 'closed';
  }

  /** One call, retries included: timed on the caller's /metrics by how it ended. */
  async call<TData, TVariables extends Record<string, unknown>>(
    op: ServiceOperation<TData, TVariables>,
    variables: TVariables,
    caller: CallerIdentity,
  ): Promise<TData> {
    const started = performance.now();
    let outcome: CallOutcome = 'unavailable';
    try {
      const data = await this.#call(op, variables, caller);
      outcome = 'ok';
      return data;
    } catch (err) {
      outcome = outcomes.get(err as object) ?? 'unavailable';
      throw err;
    } finally {
      this.#observe(outcome, (performance.now() - started) / 1000);
    }
  }

  async #call<TData, TVariables extends Record<string, unknown>>(
    op: ServiceOperation<TData, TVariables>,
    variables: TVariables,
    caller: CallerIdentity,
  ): Promise<TData> {
    const { timeoutMs, retries, backoffMs, log } = this.#opts;
    const deadline = Date.now() + timeoutMs;
    const attempts = op.kind === OperationTypeNode.QUERY ? retries + 1 : 1;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const data = await this.#breaker.fire(() => this.#send(op, variables, caller, deadline));
        const parsed = op.data.safeParse(data);
        if (!parsed.success) throw new TransientError(`${this.target} answered ${op.name} with an unexpected shape: ${parsed.error.issues[0]?.message}`);
        return parsed.data;
      } catch (err) {
        if (err instanceof RemoteGraphQLError) throw ended(remoteErrorToCaller(err), 'errors');
        last = err;
        const open = (err as { code?: string }).code === OPEN_CIRCUIT;
        const pause = backoffMs * 2 ** (attempt - 1);
        if (open || attempt === attempts || Date.now() + pause >= deadline) break;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    const open = (last as { code?: string }).code === OPEN_CIRCUIT;
    log?.warn({ target: this.target, operation: op.name, correlationId: caller.correlationId, reason: (last as Error)?.message }, 'service call failed');
    throw ended(
      serviceUnavailable(open ? `The ${this.target} service is unavailable (circuit open)` : `The ${this.target} service is unavailable`, this.target),
      open ? 'open' : 'unavailable',
    );
  }

  async #send(
    op: ServiceOperation<unknown, Record<string, unknown>>,
    variables: Record<string, unknown>,
    caller: CallerIdentity,
    deadline: number,
  ): Promise<unknown> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [SERVICE_TOKEN_HEADER]: await this.#opts.credentials.token(),
      [CORRELATION_HEADER]: caller.correlationId,
    };
    if (caller.authorization) headers.authorization = caller.authorization;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new TransientError(`no time left to ask ${this.target}`);
    let res: Response;
    try {
      res = await fetch(this.#opts.url(), {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: op.text, variables, operationName: op.name === 'anonymous' ? undefined : op.name }),
        signal: AbortSignal.timeout(remaining),
      });
    } catch (err) {
      throw new TransientError(`${this.target} did not answer: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => null)) as {
      data?: unknown;
      errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
    } | null;
    if (res.status >= 500 || !body) throw new TransientError(`${this.target} answered HTTP ${res.status}`);
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR;
      // Its own failure is not an answer about our input.
      if (code === ErrorCode.INTERNAL_SERVER_ERROR || code === ErrorCode.SERVICE_UNAVAILABLE) throw new TransientError(`${this.target}: ${first.message}`);
      throw new RemoteGraphQLError(this.target, code, first.message, first.path);
    }
    return body.data;
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.#breaker.shutdown();
  }
}

/**
 * A target's GraphQL error as the caller's: its input was refused (`BAD_USER_INPUT`,
 * `NOT_FOUND`, `FORBIDDEN`, `CONFLICT` keep their code); anything else means the
 * target could not help, which is `SERVICE_UNAVAILABLE` for the caller.
 */
export function remoteErrorToCaller(err: RemoteGraphQLError): GraphQLError {
  const passThrough: string[] = [ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.CONFLICT, ErrorCode.UNAUTHENTICATED];
  if (passThrough.includes(err.code)) return new GraphQLError(err.message, { extensions: { code: err.code, service: err.service } });
  return serviceUnavailable(`The ${err.service} service refused the request (${err.code})`, err.service);
}

/** The clients a service uses, one per target, sharing its credential; made once at start-up. */
export function createServiceClients<T extends SubgraphName>(
  config: ServiceConfig,
  targets: readonly T[],
  log: Logger = createLogger(config.service, config.logLevel),
  overrides: Partial<ServiceClientOptions> = {},
): Record<T, ServiceClient> {
  const credentials = createServiceCredentials(config.service, serviceSecrets(config));
  return Object.fromEntries(
    targets.map((target) => [
      target,
      new ServiceClient({ from: config.service, target, url: () => config.subgraphUrls[target], credentials, log, ...overrides }),
    ]),
  ) as Record<T, ServiceClient>;
}
