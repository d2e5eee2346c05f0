import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, map, Observable, of } from 'rxjs';
import { CachedResponse, CacheService } from './cache.service';
import { CACHED_KEY, CachedOptions, CacheTagContext } from './cached-options';
import { entryOf, etagOf, prepareCached } from './cached-response';
import type { CacheSource } from './tiered-cache';

const STATE: Record<CacheSource, 'HIT' | 'MISS' | 'STALE'> = { l1: 'HIT', l2: 'HIT', shared: 'MISS', load: 'MISS', stale: 'STALE' };

/**
 * Serves @Cached routes. A hit is a synchronous L1 lookup and the stored bytes: no handler, no
 * validation pipes, no JSON serialization. A miss runs the handler once per key (concurrent
 * misses wait for it) and stores the serialized body with its ETag. When the database cannot
 * answer, an expired entry that no write has invalidated answers instead, marked X-Cache: STALE.
 * Most hits never get here: the request pipeline answers them before Nest runs (src/pipeline/pipeline.ts);
 * this is the path for entries only in Redis, for misses, and for routes with a guard or
 * interceptor of their own.
 */
@Injectable()
export class CachedInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: CacheService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<CachedOptions | undefined>(CACHED_KEY, context.getHandler());
    if (options === undefined || !this.cache.enabled) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: CacheTagContext['user'] }>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const user = request.user;
    if (user === undefined || request.method !== 'GET') return next.handle();

    // The route template, as the request pipeline's policy has it (Fastify's route url), so both
    // find the same entry.
    const { key, tags } = entryOf(request, request.routeOptions.url ?? request.url, user, options);

    const hit = this.cache.responses.peek(key, tags);
    if (hit !== undefined) return of(prepareCached(request, reply, hit, 'HIT'));

    const load = async (): Promise<CachedResponse> => {
      const body = JSON.stringify(await lastValueFrom(next.handle()));
      return { body, etag: etagOf(body) };
    };
    return from(this.cache.responses.getOrLoad(key, tags, load, options.ttlMs)).pipe(
      // The loader always produces a response, so there is a value here.
      map(({ value, source }) => prepareCached(request, reply, value!, STATE[source])),
    );
  }
}
