import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, OperationTypeNode } from 'graphql';

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
