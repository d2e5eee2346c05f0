import type { AuthUser } from '../access/auth.types';
import type { CacheSpec } from '../cache/cache.service';
import type { AppConfig } from '../config/app-config';

const token = (tokenHash: string) => `token:${tokenHash}`;

/**
 * Resolved tokens (TOKEN_CACHE_TTL_MS), keyed by the token's hash. Entries are under 1 kB by the
 * estimate: an eighth of the default CACHE_L1_MAX_BYTES holds about CACHE_L1_MAX_ENTRIES.
 */
export const TokenCache = {
  spec: (config: AppConfig): CacheSpec<AuthUser> => ({
    name: 'tokens',
    ttlMs: Math.max(1, config.tokenCacheTtlMs),
    l1Share: 1 / 8,
    sizeOf: (user) => 2 * (user.id.length + user.email.length + user.role.length),
  }),
  /** The tags of a resolved token: revoking it invalidates them. */
  tags: (tokenHash: string) => [token(tokenHash)],
};
