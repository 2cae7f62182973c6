import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import type { LiveMessage } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, bearerToken, headerValue, recordCorrelationId, type Logger, type Viewer } from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';
import type { UserAuthenticator } from './identity.js';
import { addressKey, rateLimitedError, type RateLimits } from './rate-limits.js';

/** What the gateway knows about one client operation; subgraphs get it as headers. */
export type GatewayContext = {
  correlationId: string;
  /** Null for anonymous operations (login, register). */
  viewer: Viewer | null;
  /** What subgraphs get as Authorization once the token is verified: the client's header, or the gateway's copy of an identity provider's token. */
  authorization?: string;
  /**
   * The client's address: the socket's, or with TRUST_PROXY=n the one n proxies back in
   * X-Forwarded-For (Express `trust proxy`); never a header otherwise. Rate limits count by it.
   */
  clientAddress: string;
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
    recordCorrelationId(id);
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
 * Every operation spends one of the budget of its user (the verified subject), or of its
 * address when anonymous or refused: over it, RATE_LIMITED with 429 and Retry-After.
 */
export function createContext(users: UserAuthenticator, log: Logger, operationTimeoutMs?: number, limits?: RateLimits) {
  return async ({ req }: { req: { headers: IncomingHttpHeaders; ip?: string; socket?: { remoteAddress?: string } } }): Promise<GatewayContext> => {
    const deadline = operationTimeoutMs === undefined ? undefined : performance.now() + operationTimeoutMs;
    const correlationId = headerValue(req.headers, CORRELATION_HEADER) ?? randomUUID();
    const clientAddress = addressKey(req.ip ?? req.socket?.remoteAddress);
    const spend = async (key: string) => {
      const refusal = await limits?.operation(key);
      if (refusal) throw rateLimitedError(refusal);
    };
    let viewer: Viewer | null = null;
    let authorization: string | undefined;
    try {
      const token = bearerToken(headerValue(req.headers, 'authorization'));
      if (token) ({ viewer, authorization } = await users.authenticate(token));
    } catch (err) {
      await spend(`address:${clientAddress}`);
      throw tokenRefusal(err) ?? err;
    }
    await spend(viewer ? `user:${viewer.id}` : `address:${clientAddress}`);
    return {
      correlationId,
      viewer,
      authorization,
      clientAddress,
      log: log.child({ correlationId, userId: viewer?.id }),
      deadline,
    };
  };
}
