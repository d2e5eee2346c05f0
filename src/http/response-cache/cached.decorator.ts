import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CACHED_KEY, CachedOptions } from './cached-options';
import { CachedInterceptor } from './cached.interceptor';

/**
 * Caches a GET route's JSON answer per user (the key holds the user id, the route template, the
 * params and the normalized query), with ETag / If-None-Match and X-Cache: HIT|MISS.
 *
 * The interceptor is bound here rather than globally: a route without interceptors skips Nest's
 * rxjs chain entirely, which was a tenth of a POST's CPU (docs/BENCHMARKS.md).
 */
export const Cached = (options: CachedOptions) => applyDecorators(SetMetadata(CACHED_KEY, options), UseInterceptors(CachedInterceptor));

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
