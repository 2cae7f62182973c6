import { ErrorCode } from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';

/**
 * What a client gets when the query planner throws on an operation that validated against
 * the API schema: its bug or its limit, never the client's mistake, so not an HTTP 500 with
 * `INTERNAL_SERVER_ERROR` (what Apollo Server makes of an executor that throws). Seen with
 * @apollo/query-planner 2.14.4 on `{ node { __typename } }` where `node` returns an
 * `@interfaceObject` of an interface nothing implements: it throws "Subgraph nodes has no
 * entities defined", or "Cannot add selection of field "Node.__typename" to selection set of
 * parent type "Node" that is potentially an interface object type at runtime" when the
 * interface's subgraph has no root field (no upstream issue found for either). The
 * planner's message names supergraph internals (types a client may not see), so it goes to
 * the log with the correlation id, and the client gets this, coded as an empty plan is
 * (empty-plan.ts). Remove it when the planner stops throwing on valid operations.
 */
export function planningFailedError(): GraphQLError {
  return new GraphQLError('The query planner cannot plan this operation over the supergraph served now; the gateway log has the details', {
    extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, reason: 'QUERY_PLANNING_FAILED' },
  });
}
