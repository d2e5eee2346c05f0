import type { Caller } from '../caller';

export interface CacheTagContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly user: Caller;
}

export interface CachedOptions {
  /** Defaults to CACHE_TTL_MS. */
  readonly ttlMs?: number;
  /** Tags whose invalidation makes this response stale: strings the feature chooses, opaque here. */
  readonly tags: (ctx: CacheTagContext) => string[];
}

export const CACHED_KEY = 'cache:cached';
