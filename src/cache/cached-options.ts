export interface CacheTagContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** Whom the answer is cached for: answers are kept per caller id. */
  readonly user: { readonly id: string };
}

export interface CachedOptions {
  /** Defaults to CACHE_TTL_MS. */
  readonly ttlMs?: number;
  /** Tags whose invalidation makes this response stale: strings the feature chooses, opaque here. */
  readonly tags: (ctx: CacheTagContext) => string[];
}

export const CACHED_KEY = 'cache:cached';
