import { buildOperationContext, executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type PlanNode, type QueryPlan } from '@apollo/query-planner';
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
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import type { GatewayContext } from '../context.js';
import { CostCalculator } from '../cost.js';
import { checkCost, type CostLimit } from '../request-rules.js';

/** A client's subscription, validated and planned once; run once per live message. */
export interface PreparedSubscription {
  /** The broker topic feeding the subscribed field, and who its messages are for (its `@liveTopic`). */
  route: LiveRoute;
  document: DocumentNode;
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
  readonly #plans = new LRUCache<string, { plan: QueryPlan; route: LiveRoute }>({ max: PLAN_CACHE_SIZE });
  readonly #cost: CostLimit;
  /** The Subscription fields the supergraph declares a broker topic for (`@liveTopic`). */
  readonly #routes: Map<string, LiveRoute>;

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
    const supergraph = Supergraph.build(supergraphSdl);
    const calculator = CostCalculator.fromSupergraph(supergraph);
    this.#cost = { ...cost, report: false, calculator: () => calculator };
    // A supergraph composed by `compose` declares every field; one from elsewhere may not,
    // and its undeclared fields are refused at subscribe time (logged here once).
    const live = liveDeclarations(supergraphSdl);
    this.#routes = live.routes;
    for (const p of live.problems) log.warn({ field: p.field, code: p.code }, p.message);
    this.#supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.#apiSchema = supergraph.apiSchema();
    this.#apiGraphQLSchema = this.#apiSchema.toGraphQLJSSchema();
    this.#planner = new QueryPlanner(supergraph);
    this.#rules = [...specifiedRules, ...extraRules];
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
    const key = `${operationName ?? ''}\n${query}`;
    let planned = this.#plans.get(key);
    if (!planned) {
      const built = this.#plan(document, operationName, operation);
      if (built instanceof GraphQLError) return [built];
      planned = built;
      this.#plans.set(key, planned);
    }
    return {
      ...planned,
      document,
      operationName,
      variables,
      operationContext: buildOperationContext({ schema: this.#apiGraphQLSchema, operationDocument: document, operationName: operationName ?? undefined }),
    };
  }

  #plan(document: DocumentNode, operationName: string | null, operation: OperationDefinitionNode) {
    const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && !s.name.value.startsWith('__'));
    const name = field?.kind === Kind.FIELD ? field.name.value : undefined;
    const route = name === undefined ? undefined : this.#routes.get(name);
    if (!route) {
      return new GraphQLError(`No live messages feed Subscription.${name ?? '?'}: its subgraph declares no @liveTopic for it`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    const queryPlan = this.#planner.buildQueryPlan(operationFromDocument(this.#apiSchema, document, { operationName: operationName ?? undefined }));
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') return new GraphQLError(`Subscription.${route.field} has no subscription plan`);
    const root: PlanNode = node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary;
    return { route, plan: { kind: 'QueryPlan', node: root } satisfies QueryPlan };
  }

  /** Resolves one live message with the client's whole selection. */
  async run(sub: PreparedSubscription, context: GatewayContext, message: LiveMessage): Promise<ExecutionResult> {
    const requestContext = {
      request: { query: undefined, variables: sub.variables, operationName: sub.operationName ?? undefined },
      document: sub.document,
      operationName: sub.operationName,
      operation: sub.operationContext.operation,
      schema: this.#apiGraphQLSchema,
      context: { ...context, liveMessage: message },
      logger: this.log,
      metrics: {},
    } as unknown as Parameters<typeof executeQueryPlan>[2];
    const result = await executeQueryPlan(sub.plan, this.services(), requestContext, sub.operationContext, this.#supergraphSchema, this.#apiSchema);
    return { data: result.data as ExecutionResult['data'], ...(result.errors?.length ? { errors: result.errors } : {}) };
  }
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
