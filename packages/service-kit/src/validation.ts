import { GraphQLError, type ValidationRule } from 'graphql';

/**
 * An operation of a type the schema does not have (`subscription` on a subgraph without
 * subscriptions) fails validation, as graphql-js 17's KnownOperationTypesRule makes it:
 * graphql 16 leaves it to the executor, whose uncoded error reached the client as a 200
 * with INTERNAL_SERVER_ERROR.
 */
export const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This service has no ${node.operation} operations`, { nodes: node }));
    }
  },
});
