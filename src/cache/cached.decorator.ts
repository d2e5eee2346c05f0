import { SetMetadata } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types';

export interface CacheTagContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly user: AuthUser;
}

export interface CachedOptions {
  /** Defaults to CACHE_TTL_MS. */
  readonly ttlMs?: number;
  /** Tags whose invalidation makes this response stale. */
  readonly tags: (ctx: CacheTagContext) => string[];
}

export const CACHED_KEY = 'cache:cached';

/**
 * Caches a GET route's JSON answer per user (the key holds the user id, the route template, the
 * params and the normalized query), with ETag / If-None-Match and X-Cache: HIT|MISS.
 */
export const Cached = (options: CachedOptions) => SetMetadata(CACHED_KEY, options);

/** Tag names in one place, so reads and the writes that invalidate them cannot drift apart. */
// Ids are UUIDs, which PostgreSQL matches in any letter case: tags must not tell the cases apart,
// or a write through /X would leave a cached read of /x stale.
export const CacheTags = {
  project: (projectId: string) => `project:${projectId.toLowerCase()}`,
  projectsOf: (userId: string) => `projects-of:${userId}`,
  filesOf: (projectId: string) => `files-of:${projectId.toLowerCase()}`,
  activitiesOf: (projectId: string) => `activities-of:${projectId.toLowerCase()}`,
  token: (tokenHash: string) => `token:${tokenHash}`,
} as const;
