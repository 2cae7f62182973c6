import {
  createExternalTokenVerifier,
  createTokenVerifier,
  protectedHeader,
  serviceSecrets,
  signUserTokenUntil,
  unauthenticated,
  userSecrets,
  verifiedTokenCache,
  type Clock,
  type Logger,
  type ServiceConfig,
  type Viewer,
} from '@fitsync/service-kit';

/** The user a client's token proves, and what subgraphs are to be told about them. */
export interface Authenticated {
  viewer: Viewer;
  /** When the token expires (epoch seconds). */
  exp: number;
  /**
   * The Authorization header subgraphs get: the client's own for a FitSync token; for an
   * identity provider's, the gateway's FitSync copy of it (same user, role and expiry),
   * which subgraphs verify with JWT_SECRET like any other.
   */
  authorization: string;
}

export interface UserAuthenticator {
  /** Refuses with UNAUTHENTICATED, FORBIDDEN (an identity provider's token with no FitSync role) or SERVICE_UNAVAILABLE (its keys out of reach). */
  authenticate(token: string): Promise<Authenticated>;
}

export interface UserAuthenticatorOptions {
  /** Deadline for fetching the identity provider's JWKS. Default 5 s. */
  jwksTimeoutMs?: number;
}

/**
 * How the gateway checks a client's bearer token, on HTTP, SSE and WebSocket alike.
 * FitSync's own tokens (HS256, from login and register) are checked with JWT_SECRET or
 * JWT_SECRET_PREVIOUS. With JWT_JWKS_URL, an identity provider's tokens (RS256, ES256)
 * are accepted too, by their algorithm: a token is checked by one path only, each with its
 * algorithms pinned, so neither can pass for the other.
 */
export function createUserAuthenticator(config: ServiceConfig, clock: Clock, log: Logger, opts: UserAuthenticatorOptions = {}): UserAuthenticator {
  const local = createTokenVerifier(userSecrets(config), serviceSecrets(config), clock);
  const own = async (token: string): Promise<Authenticated> => {
    const { id, role, exp } = await local.verifyUser(token);
    return { viewer: { id, role }, exp, authorization: `Bearer ${token}` };
  };
  if (!config.externalJwt) return { authenticate: own };
  const external = createExternalTokenVerifier(config.externalJwt, clock, {
    timeoutMs: opts.jwksTimeoutMs,
    onUnavailable: (err) => log.warn({ err, jwksUrl: config.externalJwt?.jwksUrl }, 'identity provider keys unavailable'),
  });
  // One copy per provider token, so subgraphs see (and cache) one token text per user session.
  const copies = verifiedTokenCache<string>(clock, 10_000);
  return {
    async authenticate(token) {
      let alg: unknown;
      try {
        alg = protectedHeader(token).alg;
      } catch {
        throw unauthenticated('Invalid token');
      }
      if (alg === 'HS256') return own(token);
      const { id, role, exp } = await external.verify(token);
      let copy = copies.get(token);
      if (!copy) {
        copy = await signUserTokenUntil({ id, role }, userSecrets(config), exp, clock);
        copies.set(token, copy, exp);
      }
      return { viewer: { id, role }, exp, authorization: `Bearer ${copy}` };
    },
  };
}
