import type { ApolloServerPlugin, BaseContext as BaseContextValue } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';

/** The error codes of DESIGN.md section 6, with the HTTP status the old REST plan used. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  RATE_LIMITED: 'RATE_LIMITED',
  /** An operation whose static cost (`@cost` / `@listSize`) is over MAX_OPERATION_COST (400). */
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const fail = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) => new GraphQLError(message, { extensions: { code, ...extensions } });

export const badInput = (message: string, field?: string) => fail(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const unauthenticated = (message = 'Authentication required') => fail(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'You are not allowed to see or change this') => fail(ErrorCode.FORBIDDEN, message);
export const notFound = (type: string, id: string) => fail(ErrorCode.NOT_FOUND, `${type} ${id} not found`, { type, id });
export const conflict = (message: string, reason?: string) => fail(ErrorCode.CONFLICT, message, reason ? { reason } : {});
export const serviceUnavailable = (message: string, service?: string) => fail(ErrorCode.SERVICE_UNAVAILABLE, message, service ? { service } : {});

/** Codes a client may see with the message they came with: everything but an internal error. */
const EXPECTED_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  // codes Apollo Server itself attaches to request errors
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/**
 * Request errors Apollo Server raises without a code (so they would be masked as internal),
 * by their message: each is the client's mistake, with its 400.
 */
const UNCODED_CLIENT_ERRORS: Record<string, string> = {
  // an automatic persisted query whose sha256Hash is not the hash of its query
  'provided sha does not match query': 'BAD_REQUEST',
  // graphql-js, after the 50th refused value of the variables: the end of a list of BAD_USER_INPUTs
  'Too many errors processing variables, error limit reached. Execution aborted.': 'BAD_USER_INPUT',
};

const expected = (extensions: Record<string, unknown> | undefined) => typeof extensions?.code === 'string' && EXPECTED_CODES.has(extensions.code);

/**
 * Apollo `formatError`: errors raised on purpose pass through with their code (and a
 * subgraph's, relayed by the gateway, with theirs); anything else, an internal error
 * included whatever it says, reaches the client as a bare `Internal server error`: never
 * the original message, a stack trace, SQL, a driver message or a file path. The details
 * are logged, with the request's correlation id, by `unexpectedErrorLogging`.
 */
export function errorFormatter() {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const { stacktrace: _dropped, ...extensions } = formatted.extensions ?? {};
    // Apollo fills in INTERNAL_SERVER_ERROR for errors raised without a code.
    const uncoded = extensions.code === undefined || extensions.code === ErrorCode.INTERNAL_SERVER_ERROR ? UNCODED_CLIENT_ERRORS[formatted.message] : undefined;
    if (uncoded) return { ...formatted, extensions: { ...extensions, code: uncoded } };
    if (expected(extensions)) return { ...formatted, extensions };
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * Logs every unexpected error of a request in full (error, stack, path) with its correlation
 * id, and hands the client that id on each internal error it gets, so a report can be found
 * in the logs.
 */
export function unexpectedErrorLogging<TContext extends BaseContext>(log: Logger): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const err of errors) {
            if (expected(err.extensions)) continue;
            (contextValue?.log ?? log).error(
              { err: err.originalError ?? err, path: err.path, correlationId: contextValue?.correlationId },
              'unexpected error while resolving',
            );
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || !contextValue?.correlationId) return;
          for (const err of response.body.singleResult.errors ?? []) {
            if (err.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR)
              (err.extensions as Record<string, unknown>).correlationId = contextValue.correlationId;
          }
        },
      };
    },
  };
}

interface BaseContext extends BaseContextValue {
  correlationId?: string;
  log?: Logger;
}
