import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import type { LiveMessage } from '@fitsync/live';
import { CORRELATION_HEADER, ErrorCode, bearerToken, headerValue, type Logger, type TokenVerifier, type Viewer } from '@fitsync/service-kit';
import { GraphQLError } from 'graphql';
import { addressKey, rateLimitedError, type RateLimits } from './rate-limits.js';

/** What the gateway knows about one client operation; subgraphs get it as headers. */
export type GatewayContext = {
  correlationId: string;
  /** Null for anonymous operations (login, register). */
  viewer: Viewer | null;
  /** The client's Authorization header, forwarded to subgraphs once verified. */
  authorization?: string;
  /**
   * The client's address: the socket's, or with TRUST_PROXY=n the one n proxies back in
   * X-Forwarded-For (Express `trust proxy`); never a header otherwise. Rate limits count by it.
   */
  clientAddress: string;
  log: Logger;
  /** The live message a subscription's primary fetch resolves (see live/executor.ts). */
  liveMessage?: LiveMessage;
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

const unauthenticated = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });

/**
 * Apollo's context function: verifies the bearer token once here, so a bad or
 * expired token fails the whole operation with 401 before any subgraph is asked.
 * No token at all is an anonymous operation; subgraphs decide what that may do.
 * Every operation spends one of the budget of its user (the verified subject), or of its
 * address when anonymous or refused: over it, RATE_LIMITED with 429 and Retry-After.
 */
export function createContext(verifier: TokenVerifier, log: Logger, limits?: RateLimits) {
  return async ({ req }: { req: { headers: IncomingHttpHeaders; ip?: string; socket?: { remoteAddress?: string } } }): Promise<GatewayContext> => {
    const correlationId = headerValue(req.headers, CORRELATION_HEADER) ?? randomUUID();
    const authorization = headerValue(req.headers, 'authorization');
    const clientAddress = addressKey(req.ip ?? req.socket?.remoteAddress);
    const spend = async (key: string) => {
      const refusal = await limits?.operation(key);
      if (refusal) throw rateLimitedError(refusal);
    };
    let viewer: Viewer | null = null;
    try {
      const token = bearerToken(authorization);
      if (token) {
        const { id, role } = await verifier.verifyUser(token);
        viewer = { id, role };
      }
    } catch (err) {
      await spend(`address:${clientAddress}`);
      if (err instanceof GraphQLError && err.extensions.code === ErrorCode.UNAUTHENTICATED) throw unauthenticated(err.message);
      throw err;
    }
    await spend(viewer ? `user:${viewer.id}` : `address:${clientAddress}`);
    return {
      correlationId,
      viewer,
      authorization: viewer ? authorization : undefined,
      clientAddress,
      log: log.child({ correlationId, userId: viewer?.id }),
    };
  };
}
