import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
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

const keyOf = (secret: string) => new TextEncoder().encode(secret);

const epochSeconds = (clock: Clock) => Math.floor(clock().getTime() / 1000);

/** A user token issued now by `clock`, valid for `ttl` (`'12h'`, `'30m'`, `'90s'`, `'7d'`). */
export async function signUserToken(viewer: Viewer, secret: string, ttl = '12h', clock: Clock = systemClock): Promise<string> {
  const iat = epochSeconds(clock);
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewer.id)
    .setIssuer(ISSUER)
    .setAudience(USER_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + durationSeconds(ttl))
    .sign(keyOf(secret));
}

/**
 * Verified tokens by their text, until they expire: every request of a dashboard
 * carries the same token to five subgraphs, and HMAC checks are not free.
 */
function verifiedTokenCache<T extends object | string>(clock: Clock, max: number) {
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

export interface TokenVerifier {
  verifyUser(token: string): Promise<Viewer & { exp: number }>;
  verifyService(token: string): Promise<string>;
}

/**
 * User tokens are checked against `clock` (the service's business clock, pinned in tests);
 * service credentials are transport, signed and checked on the system clock on both sides.
 */
export function createTokenVerifier(jwtSecret: string, serviceSecret: string, clock: Clock = systemClock): TokenVerifier {
  const users = verifiedTokenCache<Viewer & { exp: number }>(clock, 10_000);
  const services = verifiedTokenCache<string>(systemClock, 1_000);
  const userKey = keyOf(jwtSecret);
  const serviceKey = keyOf(serviceSecret);
  return {
    async verifyUser(token) {
      const cached = users.get(token);
      if (cached) return cached;
      try {
        const { payload } = await jwtVerify(token, userKey, { issuer: ISSUER, audience: USER_AUDIENCE, algorithms: ['HS256'], currentDate: clock() });
        const role = payload.role as Role;
        // A user id is a UUID: a signed token saying otherwise never reaches a query.
        if (!payload.sub || !UUID.test(payload.sub) || !ROLES.has(role) || typeof payload.exp !== 'number') throw unauthenticated('Malformed token');
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
        const { payload } = await jwtVerify(token, serviceKey, { issuer: ISSUER, audience: SERVICE_AUDIENCE, algorithms: ['HS256'] });
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

/** Header that carries a service's signed credential between FitSync processes. */
export const SERVICE_TOKEN_HEADER = 'x-fitsync-service-token';
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * Signs this service's own short-lived credential and re-signs it before it
 * expires, so callers pay for one signature a minute, not one per request.
 */
export function createServiceCredentials(service: string, serviceSecret: string, ttlSeconds = 300) {
  const key = keyOf(serviceSecret);
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const sign = async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
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
