import { SignJWT, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createServiceCredentials, createTokenVerifier, keyId, signUserToken } from '../auth.js';
import { pinnedClock } from '../clock.js';

const OLD = 'rotation-test-old-secret-0123456789';
const NEW = 'rotation-test-new-secret-0123456789';
const OTHER = 'rotation-test-other-secret-0123456';
const SERVICE_OLD = 'rotation-test-old-service-secret-0123';
const SERVICE_NEW = 'rotation-test-new-service-secret-0123';
const id = '7f4c2b6e-1d3a-4e5f-9a8b-0c1d2e3f4a5b';
const clock = pinnedClock('2040-06-01T12:00:00Z');
const now = Math.floor(clock().getTime() / 1000);
const refused = (message: string) => ({ message, extensions: { code: 'UNAUTHENTICATED' } });

describe('key ids', () => {
  it('name a secret without revealing it, apart for user tokens and service credentials', () => {
    const kid = keyId(OLD, 'user');
    expect(kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(keyId(OLD, 'user')).toBe(kid);
    expect(keyId(NEW, 'user')).not.toBe(kid);
    expect(keyId(OLD, 'service')).not.toBe(kid);
    expect(OLD).not.toContain(kid);
    expect(Buffer.from(kid, 'base64url').toString('latin1')).not.toContain('rotation');
  });

  it('travel in the header of every token and credential, for the secret that signed it', async () => {
    const token = await signUserToken({ id, role: 'CLIENT' }, { current: NEW, previous: OLD }, '1h', clock);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', kid: keyId(NEW, 'user') });
    const credential = await createServiceCredentials('gateway', { current: SERVICE_NEW, previous: SERVICE_OLD }).token();
    expect(decodeProtectedHeader(credential)).toEqual({ alg: 'HS256', kid: keyId(SERVICE_NEW, 'service') });
  });
});

describe('user tokens across a rotation', () => {
  it('are accepted when signed with the current or the previous secret, and refused when signed with neither', async () => {
    const rotated = createTokenVerifier({ current: NEW, previous: OLD }, SERVICE_NEW, clock);
    const before = await signUserToken({ id, role: 'TRAINER' }, OLD, '1h', clock);
    const after = await signUserToken({ id, role: 'TRAINER' }, NEW, '1h', clock);
    const neither = await signUserToken({ id, role: 'ADMIN' }, OTHER, '1h', clock);
    await expect(rotated.verifyUser(before)).resolves.toMatchObject({ id, role: 'TRAINER' });
    await expect(rotated.verifyUser(after)).resolves.toMatchObject({ id, role: 'TRAINER' });
    await expect(rotated.verifyUser(neither)).rejects.toMatchObject(refused('Invalid token'));
    // Once the previous secret is dropped, its tokens end.
    await expect(createTokenVerifier(NEW, SERVICE_NEW, clock).verifyUser(before)).rejects.toMatchObject(refused('Invalid token'));
  });

  it('issued before key ids existed (no kid) are checked with each secret', async () => {
    const legacy = (secret: string) =>
      new SignJWT({ role: 'CLIENT' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(id)
        .setIssuer('fitsync')
        .setAudience('fitsync-api')
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(secret));
    const rotated = createTokenVerifier({ current: NEW, previous: OLD }, SERVICE_NEW, clock);
    await expect(rotated.verifyUser(await legacy(OLD))).resolves.toMatchObject({ id, role: 'CLIENT' });
    await expect(rotated.verifyUser(await legacy(NEW))).resolves.toMatchObject({ id, role: 'CLIENT' });
    await expect(rotated.verifyUser(await legacy(OTHER))).rejects.toMatchObject(refused('Invalid token'));
  });

  it('are checked with the key their kid names only: a kid the verifier does not hold is refused', async () => {
    const rotated = createTokenVerifier({ current: NEW, previous: OLD }, SERVICE_NEW, clock);
    const mislabelled = await new SignJWT({ role: 'CLIENT' })
      .setProtectedHeader({ alg: 'HS256', kid: keyId(NEW, 'user') })
      .setSubject(id)
      .setIssuer('fitsync')
      .setAudience('fitsync-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(OLD));
    await expect(rotated.verifyUser(mislabelled)).rejects.toMatchObject(refused('Invalid token'));
    const unknownKid = await signUserToken({ id, role: 'CLIENT' }, OTHER, '1h', clock);
    await expect(rotated.verifyUser(unknownKid)).rejects.toMatchObject(refused('Invalid token'));
    // A kid that is no string names no key: not a token from before key ids either.
    const oddKid = await new SignJWT({ role: 'CLIENT' })
      .setProtectedHeader({ alg: 'HS256', kid: 7 as unknown as string })
      .setSubject(id)
      .setIssuer('fitsync')
      .setAudience('fitsync-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(NEW));
    await expect(rotated.verifyUser(oddKid)).rejects.toMatchObject(refused('Invalid token'));
    // A service credential's kid names no user-token key, even for the same secret.
    const crossed = await new SignJWT({ role: 'CLIENT' })
      .setProtectedHeader({ alg: 'HS256', kid: keyId(NEW, 'service') })
      .setSubject(id)
      .setIssuer('fitsync')
      .setAudience('fitsync-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(NEW));
    await expect(rotated.verifyUser(crossed)).rejects.toMatchObject(refused('Invalid token'));
  });

  it('that are not JWTs at all are refused like any bad token', async () => {
    const verifier = createTokenVerifier({ current: NEW, previous: OLD }, SERVICE_NEW, clock);
    for (const garbage of ['not-a-jwt', 'a.b.c', '..', 'eyJhbGciOiJIUzI1NiJ9..']) {
      await expect(verifier.verifyUser(garbage)).rejects.toMatchObject(refused('Invalid token'));
      await expect(verifier.verifyService(garbage)).rejects.toMatchObject(refused('Invalid service credential'));
    }
  });
});

describe('service credentials across a rotation', () => {
  // Rolling out a new SERVICE_SECRET takes two steps, each one restart of every service:
  // 1. SERVICE_SECRET=old, SERVICE_SECRET_PREVIOUS=new (everyone accepts new, still signs old);
  // 2. SERVICE_SECRET=new, SERVICE_SECRET_PREVIOUS=old (everyone signs new, still accepts old).
  const step1 = { current: SERVICE_OLD, previous: SERVICE_NEW };
  const step2 = { current: SERVICE_NEW, previous: SERVICE_OLD };

  it('hold between a service on one step of the rollout and a service on the next, both ways', async () => {
    const configurations = [SERVICE_OLD, step1, step2, SERVICE_NEW];
    for (let i = 0; i + 1 < configurations.length; i++) {
      const [earlier, later] = [configurations[i], configurations[i + 1]];
      for (const [signer, checker] of [
        [earlier, later],
        [later, earlier],
      ]) {
        const credential = await createServiceCredentials('gateway', signer).token();
        await expect(createTokenVerifier(OLD, checker).verifyService(credential)).resolves.toBe('gateway');
      }
    }
  });

  it('signed with a secret the checker does not hold are refused', async () => {
    // Skipping step 1: a service still on the old secret alone cannot check the new one.
    const credential = await createServiceCredentials('gateway', step2).token();
    await expect(createTokenVerifier(OLD, SERVICE_OLD).verifyService(credential)).rejects.toMatchObject(refused('Invalid service credential'));
    const stranger = await createServiceCredentials('gateway', 'rotation-test-stranger-secret-0123').token();
    await expect(createTokenVerifier(OLD, step2).verifyService(stranger)).rejects.toMatchObject(refused('Invalid service credential'));
  });
});
