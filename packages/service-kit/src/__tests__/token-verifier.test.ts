// The user-token and service-credential checks verify HS256 signatures with node:crypto
// instead of jose's WebCrypto path (25-30x cheaper per token). jose stays the oracle: every
// token here, good or forged, is accepted by the verifier exactly when jose's jwtVerify accepts
// it with the same key, issuer, audience and time.
import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, keyId, signUserToken } from '../auth.js';
import { pinnedClock } from '../clock.js';

const SECRET = 'token-verifier-test-secret-0123456789';
const OTHER = 'token-verifier-other-secret-0123456789';
const SERVICE = 'token-verifier-service-secret-0123456789';
const USER = '8a4c2a8e-6a55-4f69-9a7e-6a3f5b1f3c11';
const clock = pinnedClock('2027-01-31T12:00:00Z');
const now = Math.floor(clock().getTime() / 1000);
const key = (s: string) => new TextEncoder().encode(s);
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A user token with the given header and claims, signed with `secret` (or not at all). */
async function token(claims: JWTPayload, header: Record<string, unknown> = {}, secret: string | null = SECRET): Promise<string> {
  const h = { alg: 'HS256', kid: keyId(secret ?? SECRET, 'user'), ...header };
  if (secret === null) return `${b64(h)}.${b64(claims)}.`;
  return new SignJWT(claims).setProtectedHeader(h).sign(key(secret));
}

/** What jose refuses to sign (unknown critical headers): signed here with HMAC-SHA256. */
function signedByHand(header: Record<string, unknown>, claims: JWTPayload): string {
  const signed = `${b64(header)}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', key(SECRET)).update(signed).digest('base64url')}`;
}

const good: JWTPayload = { sub: USER, role: 'CLIENT', iss: 'fitsync', aud: 'fitsync-api', iat: now - 60, exp: now + 3600 };

describe('HS256 token verification', () => {
  const verifier = createTokenVerifier(SECRET, SERVICE, clock);
  const joseAccepts = (t: string) =>
    jwtVerify(t, key(SECRET), { issuer: 'fitsync', audience: 'fitsync-api', algorithms: ['HS256'], currentDate: clock() }).then(
      () => true,
      () => false,
    );
  const weAccept = (t: string) =>
    createTokenVerifier(SECRET, SERVICE, clock)
      .verifyUser(t)
      .then(
        () => true,
        (err: { extensions?: { code?: string } }) => {
          expect(err.extensions?.code).toBe('UNAUTHENTICATED');
          return false;
        },
      );

  it('accepts what it signs and tells the viewer', async () => {
    const t = await signUserToken({ id: USER, role: 'TRAINER' }, SECRET, '1h', clock);
    await expect(verifier.verifyUser(t)).resolves.toEqual({ id: USER, role: 'TRAINER', exp: now + 3600 });
  });

  const cases: [string, () => Promise<string>][] = [
    ['a good token', () => token(good)],
    ['audience in a list', () => token({ ...good, aud: ['other', 'fitsync-api'] })],
    ['no kid', () => token(good, { kid: undefined })],
    ['another secret', () => token(good, {}, OTHER)],
    ['no signature', () => token(good, {}, null)],
    ['alg none', () => token(good, { alg: 'none' }, null)],
    ['HS512', () => token(good, { alg: 'HS512' })],
    ['a crit header', async () => signedByHand({ alg: 'HS256', crit: ['exp'], exp: 1 }, good)],
    ['b64 false', async () => signedByHand({ alg: 'HS256', b64: false, crit: ['b64'] }, good)],
    ['expired', () => token({ ...good, exp: now - 1 })],
    ['expiring this second', () => token({ ...good, exp: now })],
    ['not yet valid', () => token({ ...good, nbf: now + 60 })],
    ['valid from now', () => token({ ...good, nbf: now })],
    ['exp as text', () => token({ ...good, exp: String(now + 3600) as unknown as number })],
    ['iat as text', () => token({ ...good, iat: 'yesterday' as unknown as number })],
    ['wrong issuer', () => token({ ...good, iss: 'someone' })],
    ['wrong audience', () => token({ ...good, aud: 'fitsync-subgraphs' })],
    ['no audience', () => token({ ...good, aud: undefined })],
    [
      'a payload swapped under a good signature',
      async () => {
        const [h, , s] = (await token(good)).split('.');
        return `${h}.${b64({ ...good, role: 'ADMIN' })}.${s}`;
      },
    ],
    [
      'a signature one bit off',
      async () => {
        const t = await token(good);
        const sig = Buffer.from(t.split('.')[2], 'base64url');
        sig[0] ^= 1;
        return `${t.slice(0, t.lastIndexOf('.'))}.${sig.toString('base64url')}`;
      },
    ],
    ['a payload that is not JSON', async () => `${b64({ alg: 'HS256' })}.${b64('not json')}.${b64('sig')}`],
    ['two parts', async () => `${b64({ alg: 'HS256' })}.${b64(good)}`],
  ];
  it.each(cases)('agrees with jose on %s', async (_, make) => {
    const t = await make();
    expect(await weAccept(t)).toBe(await joseAccepts(t));
  });

  it('accepts tokens of the previous secret while rotating, and service credentials only with the service secret', async () => {
    const rotating = createTokenVerifier({ current: OTHER, previous: SECRET }, SERVICE, clock);
    await expect(rotating.verifyUser(await token(good))).resolves.toMatchObject({ id: USER });
    const credential = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: keyId(SERVICE, 'service') })
      .setSubject('gateway')
      .setIssuer('fitsync')
      .setAudience('fitsync-subgraphs')
      .setExpirationTime('5m')
      .sign(key(SERVICE));
    await expect(verifier.verifyService(credential)).resolves.toBe('gateway');
    // A user token is no service credential, even signed with the right secret for its kind.
    await expect(verifier.verifyService(await token(good))).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});
