import type { ApolloGateway, SupergraphSdlHook } from '@apollo/gateway';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '@fitsync/service-kit';
import { deferEntityFetches } from './defer-entity-fetches.js';
import { emptyPlanError } from './empty-plan.js';
import { planningFailedError } from './planning-failure.js';
import { RequiresAliases, restoreNames } from './requires-aliases.js';
import { resolvableKeysFirst } from './resolvable-keys.js';

export { deferEntityFetches } from './defer-entity-fetches.js';
export { emptyPlanError } from './empty-plan.js';
export { planningFailedError } from './planning-failure.js';
export { RequiresAliases, restoreNames, type AliasedDocument } from './requires-aliases.js';
export { resolvableKeysFirst } from './resolvable-keys.js';

type GatewayInterface = ApolloServerOptionsWithGateway<never>['gateway'];
type GatewayExecutor = ApolloGateway['executor'];
type GatewayGraphQLRequestContext = Parameters<GatewayExecutor>[0];

/**
 * Where @apollo/query-planner 2.14 answers wrongly, and the gateway works around it: one
 * module per gap, each naming its upstream issue, to be removed with it. The supergraph
 * transforms apply to the supergraph the planner gets (at load and at every hot reload, for
 * HTTP and subscriptions alike); the operation fixes to every HTTP operation (here) and
 * every subscription (live/executor.ts).
 */
export function plannerSupergraph(supergraphSdl: string): string {
  return resolvableKeysFirst(supergraphSdl);
}

/** `new ApolloGateway({ supergraphSdl })` with `plannerSupergraph` applied to the initial supergraph and every update. */
export function plannerSupergraphHook(hook: SupergraphSdlHook): SupergraphSdlHook {
  return async (options) => {
    const result = await hook({ ...options, update: (sdl) => options.update(plannerSupergraph(sdl)) });
    return { ...result, supergraphSdl: plannerSupergraph(result.supergraphSdl) };
  };
}

/**
 * ApolloGateway for Apollo Server, with the operation fixes around its executor: colliding
 * `@requires` fields aliased before planning and named back after (requires-aliases.ts),
 * an empty plan for an operation that selects data answered with an error (empty-plan.ts), and
 * so is an operation the planner throws on (planning-failure.ts).
 * Give `didResolveQueryPlan` to the ApolloGateway as `experimental_didResolveQueryPlan`.
 */
export class PlannedGateway implements GatewayInterface {
  #gateway: ApolloGateway | undefined;
  /** Those of the supergraph loaded (none before the first load). */
  #aliases: RequiresAliases | undefined;
  readonly #plans = new WeakMap<GatewayGraphQLRequestContext, QueryPlan>();

  constructor(
    private readonly log: Logger,
    /** Rewrite each query's plan so entity fetches to one subgraph leave together (defer-entity-fetches.ts; GATEWAY_DEFER_ENTITY_FETCHES). */
    private readonly opts: { deferEntityFetches?: boolean } = {},
  ) {}

  /** The plan Apollo's gateway made for a request, kept for the empty-plan check. */
  readonly didResolveQueryPlan = ({ queryPlan, requestContext }: { queryPlan: QueryPlan; requestContext: GatewayGraphQLRequestContext }) => {
    this.#plans.set(requestContext, queryPlan);
  };

  /** Wraps this gateway (built with `didResolveQueryPlan`); call once, before Apollo Server starts. */
  wrap(gateway: ApolloGateway): this {
    this.#gateway = gateway;
    // Runs at the initial load and at every update, before any operation reaches the new planner.
    gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
      this.#aliases = new RequiresAliases(coreSupergraphSdl);
      if (this.opts.deferEntityFetches !== false) this.#rewritePlans(gateway);
    });
    return this;
  }

  /**
   * The plan rewrites, applied where Apollo's gateway builds a plan, so the rewritten plan is
   * what its plan cache keeps (built once per operation, not rewritten per request). Apollo's
   * gateway has no hook for this: it makes a new `queryPlanner` at every supergraph load, just
   * before it calls the `onSchemaLoadOrUpdate` listeners (@apollo/gateway 2.14,
   * `updateWithSchemaAndNotify`), so this listener wraps each new one's `buildQueryPlan`.
   */
  #rewritePlans(gateway: ApolloGateway): void {
    const planner = (gateway as unknown as { queryPlanner?: QueryPlanner }).queryPlanner;
    if (!planner || typeof planner.buildQueryPlan !== 'function') {
      this.log.warn('the gateway has no queryPlanner to wrap: entity fetches across plan stages are not merged');
      return;
    }
    if (Object.prototype.hasOwnProperty.call(planner, 'buildQueryPlan')) return;
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (...args) => deferEntityFetches(build(...args));
  }

  get #inner(): ApolloGateway {
    if (!this.#gateway) throw new Error('PlannedGateway.wrap(gateway) was not called');
    return this.#gateway;
  }

  onSchemaLoadOrUpdate(...args: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>) {
    return this.#inner.onSchemaLoadOrUpdate(...args);
  }

  stop() {
    return this.#inner.stop();
  }

  async load(options: Parameters<GatewayInterface['load']>[0]) {
    const loaded = await this.#inner.load(options);
    return { ...loaded, executor: this.#executor(loaded.executor) };
  }

  #executor(execute: GatewayExecutor): GatewayExecutor {
    return async (requestContext) => {
      const aliased = this.#aliases?.rewrite(requestContext.document);
      const planned: GatewayGraphQLRequestContext = aliased
        ? {
            ...requestContext,
            document: aliased.document,
            operation: findOperation(aliased.document, requestContext.operationName) ?? requestContext.operation,
            // Apollo's plan cache is keyed by the query's hash: the aliased one's plan under its own.
            queryHash: `${requestContext.queryHash}:${aliased.hash}`,
          }
        : requestContext;
      let result: Awaited<ReturnType<GatewayExecutor>>;
      try {
        result = await execute(planned);
      } catch (err) {
        // Thrown before a plan was resolved: the planner threw (executing a plan fails otherwise, and stays Apollo's).
        if (this.#plans.has(planned)) throw err;
        const context = requestContext.context as { correlationId?: string; log?: Logger };
        (context.log ?? this.log).error(
          { err, correlationId: context.correlationId, operationName: requestContext.operationName },
          'the query planner failed on a valid operation',
        );
        return { data: null, errors: [planningFailedError()] };
      }
      const plan = this.#plans.get(planned);
      const empty = plan && emptyPlanError(plan, planned.document, requestContext.request.operationName, requestContext.request.variables);
      if (empty) return { data: null, errors: [empty] };
      return aliased ? restoreNames(result, aliased.renames) : result;
    };
  }
}

function findOperation(document: GatewayGraphQLRequestContext['document'], name: string | null | undefined) {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return name ? operations.find((o) => o.name?.value === name) : operations[0];
}
