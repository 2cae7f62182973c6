import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { isRole, isUserId, protectedHeader, verifiedTokenCache, type Role, type Viewer } from './auth.js';
import { systemClock, type Clock } from './clock.js';
import type { ExternalJwtConfig } from './config.js';
import { forbidden, serviceUnavailable, unauthenticated } from './errors.js';

/** What an identity provider may sign its tokens with: asymmetric only, so the gateway never holds its secret. */
export const EXTERNAL_JWT_ALGORITHMS = ['RS256', 'ES256'];

export interface ExternalTokenVerifier {
  /**
   * The viewer an identity provider's token names. Refusals: `UNAUTHENTICATED` for a token
   * that is not the provider's, for FitSync, now (bad signature, issuer, audience, expired,
   * no FitSync user id); `FORBIDDEN` for a genuine token that grants no FitSync role (or
   * several); `SERVICE_UNAVAILABLE` when the provider's keys cannot be fetched.
   */
  verify(token: string): Promise<Viewer & { exp: number }>;
}

export interface ExternalTokenVerifierOptions {
  /** Deadline for fetching the JWKS. Default 5 s. */
  timeoutMs?: number;
  /** Told why the JWKS could not be fetched (the client only hears that it could not). */
  onUnavailable?: (err: unknown) => void;
}

/**
 * Tokens of an external identity provider (JWT_JWKS_URL): keys from its JWKS (jose's remote
 * key set: cached, refetched for an unknown `kid` at most every 30 s), RS256 or ES256,
 * `iss` and `aud` as configured, `exp` required and checked on `clock` (the gateway's
 * business clock, pinned in tests).
 */
export function createExternalTokenVerifier(
  config: ExternalJwtConfig,
  clock: Clock = systemClock,
  opts: ExternalTokenVerifierOptions = {},
): ExternalTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: opts.timeoutMs ?? 5_000 });
  const verified = verifiedTokenCache<Viewer & { exp: number }>(clock, 10_000);
  return {
    async verify(token) {
      const cached = verified.get(token);
      if (cached) return cached;
      let payload: JWTPayload;
      try {
        protectedHeader(token);
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: EXTERNAL_JWT_ALGORITHMS,
          requiredClaims: ['exp'],
          currentDate: clock(),
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired');
        if (!isKeySetFailure(err)) throw unauthenticated('Invalid token');
        opts.onUnavailable?.(err);
        throw serviceUnavailable('The identity provider could not be reached to check this token; try again shortly');
      }
      const id = claim(payload, config.subjectClaim);
      if (!isUserId(id)) throw unauthenticated(`The token's ${config.subjectClaim} claim is not a FitSync user id`);
      const viewer = { id, role: roleOf(claim(payload, config.roleClaim), config.roleClaim), exp: payload.exp! };
      verified.set(token, viewer, viewer.exp);
      return viewer;
    },
  };
}

/**
 * The key set could not be had: a timeout, a network failure, an answer other than 200
 * or not a JWKS. jose raises those as its generic JOSEError, JWKSTimeout, JWKSInvalid, or
 * fetch's own error; what the token itself gets wrong is one of jose's specific errors.
 */
function isKeySetFailure(err: unknown): boolean {
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return true;
  if (err instanceof joseErrors.JOSEError) return err.constructor === joseErrors.JOSEError;
  return true;
}

/** A claim by its name (`https://fitsync.example/role` has dots of its own), else by a dotted path (`realm_access.roles`). */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/**
 * The FitSync role a claim grants: a string or an array of strings, matched without regard
 * to case; values that are no FitSync role (`offline_access`) are ignored. None, or two
 * different ones, is FORBIDDEN: the provider knows the person, FitSync cannot tell what
 * they may do, and logging in again would not change that.
 */
function roleOf(value: unknown, claimName: string): Role {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const roles = [...new Set(values.map((v) => v.toUpperCase()).filter(isRole))];
  if (roles.length === 0) throw forbidden(`The token's ${claimName} claim grants no FitSync role (CLIENT, TRAINER or ADMIN)`);
  if (roles.length > 1) throw forbidden(`The token's ${claimName} claim grants more than one FitSync role (${roles.join(', ')})`);
  return roles[0];
}
