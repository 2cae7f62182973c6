import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import type { LiveMessage } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, bearerToken, headerValue, type Logger, type Viewer } from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';
import type { UserAuthenticator } from './identity.js';

/** What the gateway knows about one client operation; subgraphs get it as headers. */
export type GatewayContext = {
  correlationId: string;
  /** Null for anonymous operations (login, register). */
  viewer: Viewer | null;
  /** What subgraphs get as Authorization once the token is verified: the client's header, or the gateway's copy of an identity provider's token. */
  authorization?: string;
  log: Logger;
  /** The live message a subscription's primary fetch resolves (see live/executor.ts). */
  liveMessage?: LiveMessage;
  /** `performance.now()` after which no more subgraph requests are sent for this operation (OPERATION_TIMEOUT_MS). */
  deadline?: number;
};

// Ids from clients end up in every log line and header downstream: keep them tame.
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request a correlation id (the client's when it sent a sane one),
 * visible to later handlers as the request header and echoed on the response.
 */
export function correlationId(): RequestHandler {
  return (req, res, next) => {
    const given = headerValue(req.headers, CORRELATION_HEADER);
    const id = given && CORRELATION_ID.test(given) ? given : randomUUID();
    req.headers[CORRELATION_HEADER] = id;
    res.setHeader(CORRELATION_HEADER, id);
    next();
  };
}

/** The HTTP status of a refused token: 401 for a bad one, 403 for one that grants no role, 503 when it cannot be checked now. */
const REFUSAL_STATUS: Record<string, number> = { [ErrorCode.UNAUTHENTICATED]: 401, [ErrorCode.FORBIDDEN]: 403, [ErrorCode.SERVICE_UNAVAILABLE]: 503 };

/** A refusal of `authenticate` with its HTTP status; anything else is no refusal and passes unchanged. */
export function tokenRefusal(err: unknown): GraphQLError | undefined {
  if (!(err instanceof GraphQLError)) return undefined;
  const status = REFUSAL_STATUS[String(err.extensions.code)];
  return status ? new GraphQLError(err.message, { extensions: { code: err.extensions.code, http: { status } } }) : undefined;
}

/**
 * Apollo's context function: verifies the bearer token once here, so a bad or
 * expired token fails the whole operation with 401 before any subgraph is asked.
 * No token at all is an anonymous operation; subgraphs decide what that may do.
 */
export function createContext(users: UserAuthenticator, log: Logger, operationTimeoutMs?: number) {
  return async ({ req }: { req: { headers: IncomingHttpHeaders } }): Promise<GatewayContext> => {
    const deadline = operationTimeoutMs === undefined ? undefined : performance.now() + operationTimeoutMs;
    const correlationId = headerValue(req.headers, CORRELATION_HEADER) ?? randomUUID();
    let viewer: Viewer | null = null;
    let authorization: string | undefined;
    try {
      const token = bearerToken(headerValue(req.headers, 'authorization'));
      if (token) ({ viewer, authorization } = await users.authenticate(token));
    } catch (err) {
      throw tokenRefusal(err) ?? err;
    }
    return {
      correlationId,
      viewer,
      authorization,
      log: log.child({ correlationId, userId: viewer?.id }),
      deadline,
    };
  };
}
