import type { AuthUser } from './auth.types';

/**
 * What the access check needs of bearer tokens. The auth feature (src/auth/token.service.ts)
 * provides it; declaring it here keeps the access layer from importing a feature.
 */
export abstract class TokenResolver {
  /** The token's user when it can be told without waiting (e.g. an in-memory cache); else undefined. */
  abstract known(token: string): AuthUser | undefined;

  /** The token's user, or undefined when it is unknown or revoked. */
  abstract resolve(token: string): Promise<AuthUser | undefined>;
}
