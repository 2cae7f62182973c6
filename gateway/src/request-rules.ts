import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode } from '@fitsync/service-kit';
import { GraphQLError, OperationTypeNode, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { CostError, costLimitExceeded, type CostCalculator } from './cost.js';

const refuse = (message: string, code: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/**
 * Client mistakes Apollo Server leaves to the executor, where the gateway's query planner
 * fails them with a 500: no operation matches `operationName` (none given for a document
 * with several, an unknown or an empty one), or a subscription sent as a plain request.
 * Refused here, once the document is validated, with a 400 and a code.
 */
export function operationResolution<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (!operation) {
            const name = request.operationName;
            throw refuse(
              name === undefined || name === null
                ? 'The document holds several operations: name the one to run in operationName'
                : `No operation named ${JSON.stringify(name)} in the document`,
              'OPERATION_RESOLUTION_FAILURE',
            );
          }
          if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
            throw refuse(
              'Subscriptions are served on /graphql over WebSocket (graphql-ws) or Server-Sent Events (Accept: text/event-stream), not as a plain request',
              'BAD_REQUEST',
            );
          }
        },
      };
    },
  };
}

/**
 * At most `max` errors in one response (a list field failing per item, or a document
 * built to fail validation everywhere, would otherwise answer megabytes), each with at
 * most `max` locations.
 */
export function errorCap<TContext extends BaseContext>(max: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors) return;
          const errors = result.errors.length > max ? result.errors.slice(0, max) : result.errors;
          result.errors = errors.map((e) => (e.locations && e.locations.length > max ? { ...e, locations: e.locations.slice(0, max) } : e));
        },
      };
    },
  };
}

/** graphql-js's "Did you mean ...?" suggestions, cut from a message (as GraphQL Armor's block-field-suggestions does). */
export const withoutFieldSuggestions = (message: string) => message.replace(/\s*Did you mean .+\?$/, '');

/** What the cost rule needs: the calculator of the supergraph served now, and the budget. */
export interface CostLimit {
  calculator(): CostCalculator;
  /** MAX_OPERATION_COST. */
  max: number;
  /** Report `extensions.cost: { estimated, max }` in every answer (outside production). */
  report: boolean;
  /** Counts each estimate (`fitsync_gateway_operation_cost`). */
  observe?(estimated: number, refused: boolean): void;
}

/**
 * The static cost of an operation with its variables (`@cost` / `@listSize`), or the refusal
 * the client gets: COST_LIMIT_EXCEEDED over the budget, BAD_USER_INPUT for a field its
 * `@listSize` needs a slicing argument for. The same check for HTTP, SSE and WebSocket.
 */
export function checkCost(limit: CostLimit, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined) {
  let estimated: number;
  try {
    estimated = limit.calculator().estimate(document, operation, variables ?? {});
  } catch (err) {
    if (err instanceof CostError) return { error: refuse(err.message, ErrorCode.BAD_USER_INPUT) };
    throw err;
  }
  const refused = estimated > limit.max;
  limit.observe?.(estimated, refused);
  if (refused) return { estimated, error: costLimitExceeded(operation.name?.value, estimated, limit.max) };
  return { estimated };
}

/**
 * Refuses, once the operation is resolved and before anything is planned or sent to a
 * subgraph, an operation whose static cost is over MAX_OPERATION_COST; outside production
 * every answer says what the operation cost (`extensions.cost`).
 */
export function operationCost<TContext extends BaseContext>(limit: CostLimit): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      let estimated: number | undefined;
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const checked = checkCost(limit, document, operation, request.variables);
          estimated = checked.estimated;
          if (checked.error) throw checked.error;
        },
        async willSendResponse({ response }) {
          if (!limit.report || estimated === undefined || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: { estimated, max: limit.max } };
        },
      };
    },
  };
}
