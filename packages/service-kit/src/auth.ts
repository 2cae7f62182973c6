import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { LRUCache } from 'lru-cache';
import { durationSeconds, systemClock, type Clock } from './clock.js';
import { unauthenticated } from './errors.js';

export type Role = 'CLIENT' | 'TRAINER' | 'ADMIN';

/** The end user a request acts for, as proven by their token. */
export interface Viewer {
  id: string;
  role: Role;
}

// ---------- passwords ----------

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** `scrypt$N$r$p$salt$hash`, salt and hash base64url: the parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(key, expected);
}

// ---------- tokens ----------

const ISSUER = 'fitsync';
const USER_AUDIENCE = 'fitsync-api';
const SERVICE_AUDIENCE = 'fitsync-subgraphs';
const ROLES = new Set<Role>(['CLIENT', 'TRAINER', 'ADMIN']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user id as FitSync stores it: a UUID. */
export const isUserId = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
export const isRole = (value: unknown): value is Role => ROLES.has(value as Role);

/**
 * The secret that signs, and during a rotation the other one still accepted
 * (`JWT_SECRET` / `JWT_SECRET_PREVIOUS`, `SERVICE_SECRET` / `SERVICE_SECRET_PREVIOUS`).
 * A bare string is a ring of one.
 */
export type Secrets = string | { current: string; previous?: string };

/** What a secret signs: user tokens and service credentials never share a key id, even with one secret. */
export type KeyPurpose = 'user' | 'service' | 'unsubscribe';

/**
 * The key id (`kid` header) of a secret: the first 96 bits of a SHA-256 over the purpose and
 * the secret, base64url. It names the key without revealing it, so a verifier holding two
 * secrets knows which one to check without trying both.
 */
export function keyId(secret: string, purpose: KeyPurpose): string {
  return createHash('sha256').update(`fitsync ${purpose} key\0${secret}`).digest().subarray(0, 12).toString('base64url');
}

interface Key {
  kid: string;
  key: Uint8Array;
}

/** The keys of a ring: the first signs; a token is checked with the key its kid names, or (no kid) with each. */
export interface KeyRing {
  signing: Key;
  /** The keys a token with this header may be checked with, in order; none for a kid this ring does not hold. */
  candidates(kid: string | undefined): Key[];
}

export function keyRing(secrets: Secrets, purpose: KeyPurpose): KeyRing {
  const { current, previous } = typeof secrets === 'string' ? { current: secrets, previous: undefined } : secrets;
  const keys = [current, ...(previous !== undefined && previous !== current ? [previous] : [])].map((secret) => ({
    kid: keyId(secret, purpose),
    key: new TextEncoder().encode(secret),
  }));
  return {
    signing: keys[0],
    // Tokens issued before key ids existed carry none: either secret may have signed them.
    candidates: (kid) => (kid === undefined ? keys : keys.filter((k) => k.kid === kid)),
  };
}

/** The user-token secrets of a service's configuration: JWT_SECRET, and JWT_SECRET_PREVIOUS while rotating. */
export const userSecrets = (config: { jwtSecret: string; jwtSecretPrevious?: string }): Secrets => ({
  current: config.jwtSecret,
  previous: config.jwtSecretPrevious,
});
/** The service-credential secrets of a service's configuration: SERVICE_SECRET, and SERVICE_SECRET_PREVIOUS while rotating. */
export const serviceSecrets = (config: { serviceSecret: string; serviceSecretPrevious?: string }): Secrets => ({
  current: config.serviceSecret,
  previous: config.serviceSecretPrevious,
});

const epochSeconds = (clock: Clock) => Math.floor(clock().getTime() / 1000);

/** A user token issued now by `clock`, valid for `ttl` (`'12h'`, `'30m'`, `'90s'`, `'7d'`), signed with the current secret. */
export async function signUserToken(viewer: Viewer, secrets: Secrets, ttl = '12h', clock: Clock = systemClock): Promise<string> {
  const iat = epochSeconds(clock);
  return signUserTokenUntil(viewer, secrets, iat + durationSeconds(ttl), clock);
}

/** A user token issued now by `clock` that expires at `exp` (epoch seconds): the gateway's copy of a token from an identity provider. */
export async function signUserTokenUntil(viewer: Viewer, secrets: Secrets, exp: number, clock: Clock = systemClock): Promise<string> {
  const { signing } = keyRing(secrets, 'user');
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256', kid: signing.kid })
    .setSubject(viewer.id)
    .setIssuer(ISSUER)
    .setAudience(USER_AUDIENCE)
    .setIssuedAt(epochSeconds(clock))
    .setExpirationTime(exp)
    .sign(signing.key);
}

/**
 * Verified tokens by their text, until they expire: every request of a dashboard
 * carries the same token to five subgraphs, and signature checks are not free.
 */
export function verifiedTokenCache<T extends object | string>(clock: Clock, max: number) {
  // Entries live until their token expires, on the verifier's clock (pinned in tests).
  const cache = new LRUCache<string, T>({ max, ttlResolution: 0, perf: { now: () => clock().getTime() } });
  return {
    get: (token: string) => cache.get(token),
    set(token: string, value: T, exp: number) {
      // lru-cache counts an entry stale once more than `ttl` ms passed; a token is expired at `exp` itself.
      const ttl = exp * 1000 - clock().getTime() - 1;
      if (ttl > 0) cache.set(token, value, { ttl });
    },
  };
}

/** A token's header, or (not a JWS at all) an invalid-token error like any other refusal of jose's. */
export function protectedHeader(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw new joseErrors.JWTInvalid('Invalid Token or Protected Header formatting');
  }
}

/**
 * Checks an HS256 token with the key its `kid` names (each key of the ring for a token
 * without one). An unknown kid, or no key that fits, is a bad signature.
 *
 * The signature is checked with node:crypto's HMAC, not jose's `jwtVerify`: jose goes through
 * WebCrypto, whose asynchronous job costs about 250 us per token against 10 us here (measured
 * side by side), and a subgraph checks every token it has not seen yet, which under a stream of
 * live messages for thousands of users is every message (bench:subscriptions). Header and claims
 * are checked as jose checks them, and refused with jose's errors.
 */
async function verifyWithRing(token: string, ring: KeyRing, options: { issuer: string; audience: string; currentDate?: Date }) {
  const header = protectedHeader(token);
  const { kid } = header;
  if (kid !== undefined && typeof kid !== 'string') throw new joseErrors.JWTInvalid('kid must be a string');
  if (header.alg !== 'HS256') throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  // Extensions this verifier does not understand must make it refuse (RFC 7515, 4.1.11), as jose does.
  if (header.crit !== undefined || header.b64 !== undefined) throw new joseErrors.JWSInvalid('Unsupported JWS header parameter');
  const parts = token.split('.');
  if (parts.length !== 3) throw new joseErrors.JWSInvalid('Invalid Compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const signature = Buffer.from(encodedSignature, 'base64url');
  const candidates = ring.candidates(kid);
  const signed = `${encodedHeader}.${encodedPayload}`;
  const fits = candidates.some(({ key }) => {
    const expected = createHmac('sha256', key).update(signed).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  });
  if (!fits) throw new joseErrors.JWSSignatureVerificationFailed();
  let payload: JWTPayload;
  try {
    payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as JWTPayload;
  } catch {
    throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  const now = Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
  const claim = (name: string, message: string, reason = 'check_failed') => new joseErrors.JWTClaimValidationFailed(message, payload, name, reason);
  if (payload.iss !== options.issuer) throw claim('iss', 'unexpected "iss" claim value');
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  if (!audiences.includes(options.audience)) throw claim('aud', 'unexpected "aud" claim value');
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    if (payload[name] !== undefined && typeof payload[name] !== 'number') throw claim(name, `"${name}" claim must be a number`, 'invalid');
  }
  if (typeof payload.nbf === 'number' && payload.nbf > now) throw claim('nbf', '"nbf" claim timestamp check failed');
  if (typeof payload.exp === 'number' && payload.exp <= now)
    throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');
  return { payload };
}

export interface TokenVerifier {
  verifyUser(token: string): Promise<Viewer & { exp: number }>;
  verifyService(token: string): Promise<string>;
}

/**
 * User tokens are checked against `clock` (the service's business clock, pinned in tests);
 * service credentials are transport, signed and checked on the system clock on both sides.
 * Either is accepted when signed with the current or the previous secret of its ring.
 */
export function createTokenVerifier(jwtSecrets: Secrets, serviceSecrets: Secrets, clock: Clock = systemClock): TokenVerifier {
  const users = verifiedTokenCache<Viewer & { exp: number }>(clock, 10_000);
  const services = verifiedTokenCache<string>(systemClock, 1_000);
  const userKeys = keyRing(jwtSecrets, 'user');
  const serviceKeys = keyRing(serviceSecrets, 'service');
  return {
    async verifyUser(token) {
      const cached = users.get(token);
      if (cached) return cached;
      try {
        const { payload } = await verifyWithRing(token, userKeys, { issuer: ISSUER, audience: USER_AUDIENCE, currentDate: clock() });
        const role = payload.role;
        // A user id is a UUID: a signed token saying otherwise never reaches a query.
        if (!isUserId(payload.sub) || !isRole(role) || typeof payload.exp !== 'number') throw unauthenticated('Malformed token');
        const viewer = { id: payload.sub, role, exp: payload.exp };
        users.set(token, viewer, payload.exp);
        return viewer;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired');
        if (err instanceof joseErrors.JOSEError) throw unauthenticated('Invalid token');
        throw err;
      }
    },
    async verifyService(token) {
      const cached = services.get(token);
      if (cached) return cached;
      try {
        const { payload } = await verifyWithRing(token, serviceKeys, { issuer: ISSUER, audience: SERVICE_AUDIENCE });
        if (!payload.sub || typeof payload.exp !== 'number') throw unauthenticated('Malformed service credential');
        services.set(token, payload.sub, payload.exp);
        return payload.sub;
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) throw unauthenticated('Invalid service credential');
        throw err;
      }
    },
  };
}

const UNSUBSCRIBE_AUDIENCE = 'fitsync-unsubscribe';

/** What an unsubscribe link stands for: one user turns one kind of notification off on one channel. */
export interface UnsubscribeClaim {
  userId: string;
  kind: string;
  channel: string;
}

/**
 * The token of an email's one-click unsubscribe link: signed with the user-token secrets
 * (JWT_SECRET, rotated with JWT_SECRET_PREVIOUS like user tokens) under a key id and an
 * audience of its own, so it is never accepted as a sign-in, and a user token never as it.
 */
export async function signUnsubscribeToken(claim: UnsubscribeClaim, secrets: Secrets, ttl: string, clock: Clock = systemClock): Promise<string> {
  const { signing } = keyRing(secrets, 'unsubscribe');
  const iat = epochSeconds(clock);
  return new SignJWT({ kind: claim.kind, channel: claim.channel })
    .setProtectedHeader({ alg: 'HS256', kid: signing.kid })
    .setSubject(claim.userId)
    .setIssuer(ISSUER)
    .setAudience(UNSUBSCRIBE_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + durationSeconds(ttl))
    .sign(signing.key);
}

/** Why an unsubscribe token was refused: `expired`, or `invalid` (forged, malformed, another key or audience). */
export class UnsubscribeTokenError extends Error {
  override name = 'UnsubscribeTokenError';
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'This unsubscribe link has expired' : 'This unsubscribe link is not valid');
  }
}

/** The claim of an unsubscribe token checked against `clock`, or an UnsubscribeTokenError. */
export async function verifyUnsubscribeToken(token: string, secrets: Secrets, clock: Clock = systemClock): Promise<UnsubscribeClaim> {
  try {
    const { kid } = protectedHeader(token);
    if (kid === undefined) throw new UnsubscribeTokenError('invalid');
    const { payload } = await verifyWithRing(token, keyRing(secrets, 'unsubscribe'), { issuer: ISSUER, audience: UNSUBSCRIBE_AUDIENCE, currentDate: clock() });
    if (!isUserId(payload.sub) || typeof payload.kind !== 'string' || typeof payload.channel !== 'string') throw new UnsubscribeTokenError('invalid');
    return { userId: payload.sub, kind: payload.kind, channel: payload.channel };
  } catch (err) {
    if (err instanceof UnsubscribeTokenError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new UnsubscribeTokenError('expired');
    if (err instanceof joseErrors.JOSEError) throw new UnsubscribeTokenError('invalid');
    throw err;
  }
}

/** Header that carries a service's signed credential between FitSync processes. */
export const SERVICE_TOKEN_HEADER = 'x-fitsync-service-token';
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * Signs this service's own short-lived credential and re-signs it before it
 * expires, so callers pay for one signature a minute, not one per request.
 */
export function createServiceCredentials(service: string, secrets: Secrets, ttlSeconds = 300) {
  const { kid, key } = keyRing(secrets, 'service').signing;
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const sign = async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid })
      .setSubject(service)
      .setIssuer(ISSUER)
      .setAudience(SERVICE_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(key);
    current = { token, refreshAt: Date.now() + (ttlSeconds * 1000) / 2 };
    return token;
  };
  return {
    async token(): Promise<string> {
      if (current && Date.now() < current.refreshAt) return current.token;
      pending ??= sign().finally(() => (pending = undefined));
      return pending;
    },
  };
}
export type ServiceCredentials = ReturnType<typeof createServiceCredentials>;

export function bearerToken(authorization: string | undefined | null): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
  return match[1];
}
