import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CACHED_KEY, CachedOptions } from './cached-options';
import { CachedInterceptor } from './cached.interceptor';

/**
 * Caches a GET route's JSON answer per user (the key holds the user id, the route template, the
 * params and the normalized query), with ETag / If-None-Match and X-Cache: HIT|MISS. Each feature
 * declares its options next to the writes that invalidate them (e.g. src/projects/project.cache.ts).
 *
 * The interceptor is bound here rather than globally: a route without interceptors skips Nest's
 * rxjs chain entirely, which was a tenth of a POST's CPU (docs/BENCHMARKS.md).
 */
export const Cached = (options: CachedOptions) => applyDecorators(SetMetadata(CACHED_KEY, options), UseInterceptors(CachedInterceptor));

