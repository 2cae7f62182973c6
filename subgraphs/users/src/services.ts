import { signUserToken, type ServiceConfig, type Viewer } from '@fitsync/service-kit';
import type { Clock } from '@fitsync/service-kit/clock';

/** Signs the tokens login and register hand out, with the configured secret and lifetime, issued at the clock's now. */
export interface TokenSigner {
  sign(viewer: Viewer, clock: Clock): Promise<string>;
}

/** What users builds once at start-up and its resolvers reach as `ctx.services`. */
export interface UsersServices {
  tokens: TokenSigner;
}

export const createUsersServices = (config: ServiceConfig): UsersServices => ({
  tokens: { sign: (viewer, clock) => signUserToken(viewer, config.jwtSecret, config.jwtTtl, clock) },
});
