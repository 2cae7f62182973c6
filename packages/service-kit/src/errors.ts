import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** The error codes of DESIGN.md section 6, with the HTTP status the old REST plan used. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const fail = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extensions } });

export const badInput = (message: string, field?: string) =>
  fail(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const unauthenticated = (message = 'Authentication required') => fail(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'You are not allowed to see or change this') => fail(ErrorCode.FORBIDDEN, message);
export const notFound = (type: string, id: string) => fail(ErrorCode.NOT_FOUND, `${type} ${id} not found`, { type, id });
export const conflict = (message: string, reason?: string) => fail(ErrorCode.CONFLICT, message, reason ? { reason } : {});
export const serviceUnavailable = (message: string, service?: string) =>
  fail(ErrorCode.SERVICE_UNAVAILABLE, message, service ? { service } : {});

const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  // codes Apollo Server itself attaches to request errors
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/**
 * Apollo `formatError`: errors we raised on purpose pass through with their code;
 * anything else is logged in full and reaches the client as a bare internal error,
 * never with a stack trace or a driver message.
 */
export function errorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    const { stacktrace: _dropped, ...extensions } = formatted.extensions ?? {};
    if (typeof code === 'string' && KNOWN_CODES.has(code)) {
      return { ...formatted, extensions };
    }
    // Errors that came back from a subgraph through the gateway keep their code.
    if (typeof code === 'string' && formatted.extensions?.serviceName) return { ...formatted, extensions };
    log.error({ err: error, path: formatted.path }, 'unexpected error while resolving');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/** Parses with zod; the first problem becomes a BAD_USER_INPUT naming its field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.');
    throw badInput(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
  }
  return result.data;
}
