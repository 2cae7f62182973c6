import { buildOperationContext, executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { liveDeclarations, type LiveRoute } from '@fitsync/composition';
import type { LiveMessage } from '@fitsync/live';
import type { Logger } from '@fitsync/service-kit';
import { LRUCache } from 'lru-cache';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  print,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import type { GatewayContext } from '../context.js';
import { CostCalculator } from '../cost.js';
import { emptyPlanError, plannerSupergraph, planningFailedError, RequiresAliases, restoreNames } from '../planner-fixes/index.js';
import { checkCost, type CostLimit } from '../request-rules.js';

/**
 * What feeds a subscribed field: the broker topic its `@liveTopic` names (and who its messages
 * are for), or, without one, the subgraph that owns it, subscribed to with the planner's
 * primary fetch.
 */
export type Feed = { kind: 'broker'; route: LiveRoute } | { kind: 'upstream'; field: string; subgraph: string; fetch: FetchNode };

/** What one client subscription resolves: a broker message, or an event of its upstream subscription. */
export type LiveEvent = { kind: 'broker'; message: LiveMessage } | { kind: 'upstream'; result: FormattedExecutionResult };

/** A client's subscription, validated and planned once; run once per live message. */
export interface PreparedSubscription {
  feed: Feed;
  /** The client's document (what a reload plans again). */
  document: DocumentNode;
  /** What is planned and executed: the client's document with the `@requires` collisions aliased (planner-fixes/requires-aliases.ts). */
  executed: DocumentNode;
  /** Aliases of `executed` → the client's response names, named back in each result. */
  renames: ReadonlyMap<string, string>;
  operationName: string | null;
  variables: Record<string, unknown>;
  /** `Sequence[primary, rest]`: the plan executeQueryPlan runs for each message. */
  plan: QueryPlan;
  operationContext: ReturnType<typeof buildOperationContext>;
}

export interface SubscriptionRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** Distinct subscription documents whose plans are kept; the least recently used goes first. */
const PLAN_CACHE_SIZE = 500;

/**
 * Subscriptions over the supergraph. Apollo's query planner plans a subscription as a
 * `Subscription` node: `primary`, the fetch of the subscribed field from the subgraph
 * that declares it, and `rest`, the fetches of everything other subgraphs contribute.
 * `executeQueryPlan` refuses that node but runs `Sequence[primary, rest]`; the primary
 * fetch goes to the owning subgraph with the live message attached (see
 * SubgraphDataSource), where the field's `resolve` loads what the message names with its
 * access checks. So an event is resolved with the same data sources, batched entity
 * fetches, identity and correlation ids as any query.
 */
export class SubscriptionExecutor {
  readonly #supergraphSchema: GraphQLSchema;
  readonly #apiSchema: Schema;
  readonly #apiGraphQLSchema: GraphQLSchema;
  readonly #planner: QueryPlanner;
  readonly #rules: ValidationRule[];
  readonly #plans = new LRUCache<string, { plan: QueryPlan; feed: Feed }>({ max: PLAN_CACHE_SIZE });
  readonly #aliases: RequiresAliases;
  readonly #cost: CostLimit;
  /** The Subscription fields the supergraph declares a broker topic for (`@liveTopic`). */
  readonly #routes: Map<string, LiveRoute>;
  /** Each subgraph's routing URL in this supergraph. */
  readonly #routingUrls: Map<string, string | undefined>;

  constructor(
    supergraphSdl: string,
    readonly services: () => ServiceMap,
    extraRules: ValidationRule[],
    private readonly log: Logger,
    /** The gateway's parse options (its token limit), as Apollo parses HTTP requests. */
    private readonly parseOptions: ParseOptions = {},
    /** MAX_OPERATION_COST, as for HTTP: a subscription over it is refused before it is planned. */
    cost: Omit<CostLimit, 'calculator' | 'report'> = { max: Infinity },
  ) {
    // The planner's workarounds, as for HTTP operations (planner-fixes/).
    const supergraph = Supergraph.build(plannerSupergraph(supergraphSdl));
    this.#aliases = new RequiresAliases(supergraphSdl);
    const calculator = CostCalculator.fromSupergraph(supergraph);
    this.#cost = { ...cost, report: false, calculator: () => calculator };
    // A field with a usable @liveTopic is fed from its broker topic; one without from its
    // subgraph. A supergraph not composed by `compose` may hold a declaration that cannot be
    // used: logged here once, and its field is refused at subscribe time.
    const live = liveDeclarations(supergraphSdl);
    this.#routes = live.routes;
    this.#invalid = new Set(live.problems.map((p) => p.field));
    this.#routingUrls = new Map([...supergraph.subgraphs()].map((s) => [s.name, s.url]));
    for (const p of live.problems) log.warn({ field: p.field, code: p.code }, p.message);
    this.#supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.#apiSchema = supergraph.apiSchema();
    this.#apiGraphQLSchema = this.#apiSchema.toGraphQLJSSchema();
    this.#planner = new QueryPlanner(supergraph);
    this.#rules = [...specifiedRules, ...extraRules];
  }

  readonly #invalid: Set<string>;

  /** The routing URL the supergraph gives a subgraph. */
  routingUrl(subgraph: string): string | undefined {
    return this.#routingUrls.get(subgraph);
  }

  /** The broker topics this supergraph's Subscription fields are fed from. */
  get topics(): Set<string> {
    return new Set([...this.#routes.values()].map((r) => r.topic));
  }

  /** The Subscription fields this supergraph feeds from a broker topic. */
  get fields(): string[] {
    return [...this.#routes.values()].map((r) => r.field);
  }

  /** The client-facing schema (graphql-ws and graphql-sse validate nothing themselves here). */
  get schema(): GraphQLSchema {
    return this.#apiGraphQLSchema;
  }

  /** Parses, validates (with the gateway's operation limits), checks the cost and plans; errors are the client's. */
  prepare(req: SubscriptionRequest): PreparedSubscription | GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(req.query, this.parseOptions);
    } catch (err) {
      return [withCode(err instanceof GraphQLError ? err : new GraphQLError('The document cannot be parsed'), 'GRAPHQL_PARSE_FAILED')];
    }
    return this.#prepareDocument(document, req.query, req.operationName ?? null, req.variables ?? {});
  }

  /**
   * A running subscription against this executor's (new) supergraph: validated and planned
   * again, so it goes on when its operation is still valid after a schema reload.
   */
  adopt(sub: PreparedSubscription): PreparedSubscription | GraphQLError[] {
    // Checked again (the new schema may price it otherwise), not counted again.
    return this.#prepareDocument(sub.document, print(sub.document), sub.operationName, sub.variables, false);
  }

  #prepareDocument(
    document: DocumentNode,
    query: string,
    operationName: string | null,
    variables: Record<string, unknown>,
    counted = true,
  ): PreparedSubscription | GraphQLError[] {
    const errors = validate(this.#apiGraphQLSchema, document, this.#rules);
    if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    const operation = findOperation(document, operationName);
    if (!operation) {
      return [
        new GraphQLError(operationName ? `Unknown operation "${operationName}"` : 'Name the operation to run: the document has several', {
          extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
        }),
      ];
    }
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return [
        new GraphQLError('Only subscriptions are served here; send queries and mutations as HTTP POST to /graphql', { extensions: { code: 'BAD_USER_INPUT' } }),
      ];
    }
    const cost = checkCost(counted ? this.#cost : { ...this.#cost, observe: undefined }, document, operation, variables);
    if (cost.error) return [cost.error];
    const aliased = this.#aliases.rewrite(document);
    const executed = aliased?.document ?? document;
    const key = `${operationName ?? ''}\n${query}`;
    let planned = this.#plans.get(key);
    if (!planned) {
      const built = this.#plan(executed, operationName, operation, variables);
      if (built instanceof GraphQLError) return [built];
      planned = built;
      this.#plans.set(key, planned);
    }
    return {
      ...planned,
      document,
      executed,
      renames: aliased?.renames ?? new Map(),
      operationName,
      variables,
      operationContext: buildOperationContext({ schema: this.#apiGraphQLSchema, operationDocument: executed, operationName: operationName ?? undefined }),
    };
  }

  #plan(document: DocumentNode, operationName: string | null, operation: OperationDefinitionNode, variables: Record<string, unknown>) {
    const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && !s.name.value.startsWith('__'));
    const name = field?.kind === Kind.FIELD ? field.name.value : undefined;
    if (name === undefined || this.#invalid.has(name)) {
      return new GraphQLError(`Subscription.${name ?? '?'} cannot be served: its @liveTopic declaration is not valid`, {
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      });
    }
    let queryPlan: QueryPlan;
    try {
      queryPlan = this.#planner.buildQueryPlan(operationFromDocument(this.#apiSchema, document, { operationName: operationName ?? undefined }));
    } catch (err) {
      this.log.error({ err, operationName }, 'the query planner failed on a valid subscription');
      return planningFailedError();
    }
    const empty = emptyPlanError(queryPlan, document, operationName, variables);
    if (empty) return empty;
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') return new GraphQLError(`Subscription.${name} has no subscription plan`);
    const root: PlanNode = node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary;
    const route = this.#routes.get(name);
    const feed: Feed = route ? { kind: 'broker', route } : { kind: 'upstream', field: name, subgraph: node.primary.serviceName, fetch: node.primary };
    return { feed, plan: { kind: 'QueryPlan', node: root } satisfies QueryPlan };
  }

  /** The variables of the client's subscription that its upstream (primary) fetch uses, as @apollo/gateway picks them for a fetch. */
  static upstreamVariables(sub: PreparedSubscription): Record<string, unknown> {
    if (sub.feed.kind !== 'upstream') return {};
    const picked: Record<string, unknown> = {};
    for (const name of sub.feed.fetch.variableUsages ?? []) if (sub.variables[name] !== undefined) picked[name] = sub.variables[name];
    return picked;
  }

  /**
   * Resolves one event with the client's whole selection. A broker message goes to the
   * owning subgraph with the primary fetch; an upstream event is the primary fetch's
   * answer. Either way the rest runs as for a query.
   */
  async run(sub: PreparedSubscription, context: GatewayContext, event: LiveEvent): Promise<ExecutionResult> {
    let services = this.services();
    let liveContext: GatewayContext = context;
    if (event.kind === 'broker') liveContext = { ...context, liveMessage: event.message };
    else if (sub.feed.kind === 'upstream') services = withUpstreamEvent(services, sub.feed, event.result);
    const requestContext = {
      request: { query: undefined, variables: sub.variables, operationName: sub.operationName ?? undefined },
      document: sub.executed,
      operationName: sub.operationName,
      operation: sub.operationContext.operation,
      schema: this.#apiGraphQLSchema,
      // A new object per event: entity fetches batch by it (see SubgraphDataSource).
      context: liveContext === context ? { ...context } : liveContext,
      logger: this.log,
      metrics: {},
    } as unknown as Parameters<typeof executeQueryPlan>[2];
    const result = await executeQueryPlan(sub.plan, services, requestContext, sub.operationContext, this.#supergraphSchema, this.#apiSchema);
    const named = sub.renames.size ? restoreNames(result, sub.renames) : result;
    return { data: named.data as ExecutionResult['data'], ...(named.errors?.length ? { errors: named.errors } : {}) };
  }
}

/**
 * The services with the primary fetch of an upstream subscription answered by the event:
 * a copy of it, since @apollo/gateway merges the rest into the data it is given and the
 * event is shared by every client of the upstream subscription. The subgraph's other
 * fetches (entity fetches of the rest) go to it as usual.
 */
function withUpstreamEvent(services: ServiceMap, feed: Extract<Feed, { kind: 'upstream' }>, result: FormattedExecutionResult): ServiceMap {
  const real = services[feed.subgraph];
  const answer = { ...(result.data !== undefined ? { data: structuredClone(result.data) } : {}), ...(result.errors ? { errors: result.errors } : {}) };
  const primary: ServiceMap[string] = {
    process: (options) => {
      if (options.request.query === feed.fetch.operation) return Promise.resolve(answer as never);
      return real ? real.process(options) : Promise.reject(new Error(`no data source for ${feed.subgraph}`));
    },
  };
  return { ...services, [feed.subgraph]: primary };
}

function findOperation(document: DocumentNode, name: string | null): OperationDefinitionNode | undefined {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (name === null) return ops.length === 1 ? ops[0] : undefined;
  return ops.find((o) => o.name?.value === name);
}

/** The error with `extensions.code` set, unless it has one: every error a client gets is coded. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (typeof error.extensions.code === 'string') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
