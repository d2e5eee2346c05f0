import { createHash } from 'node:crypto';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, map, Observable, of } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { responseKey } from './cache-key';
import { CachedResponse, CacheService } from './cache.service';
import { CACHED_KEY, CachedOptions } from './cached.decorator';

const JSON_TYPE = 'application/json; charset=utf-8';

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/**
 * Serves @Cached routes. A hit is a synchronous L1 lookup and the stored bytes: no handler, no
 * validation pipes, no JSON serialization. A miss runs the handler once per key (concurrent
 * misses wait for it) and stores the serialized body with its ETag.
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
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const user = request.user;
    if (user === undefined || request.method !== 'GET') return next.handle();

    const params = request.params as Record<string, string>;
    const query = request.query as Record<string, unknown>;
    const key = responseKey(user.id, request.routeOptions.url ?? request.url, params, query);
    const tags = options.tags({ params, query, user });

    const hit = this.cache.responses.peek(key, tags);
    if (hit !== undefined) return of(this.send(request, reply, hit, 'HIT'));

    const load = async (): Promise<CachedResponse> => {
      const body = JSON.stringify(await lastValueFrom(next.handle()));
      return { body, etag: etagOf(body) };
    };
    return from(this.cache.responses.getOrLoad(key, tags, load, options.ttlMs)).pipe(
      // The loader always produces a response, so there is a value here.
      map(({ value, source }) => this.send(request, reply, value!, source === 'l1' || source === 'l2' ? 'HIT' : 'MISS')),
    );
  }

  private send(request: AuthenticatedRequest, reply: FastifyReply, cached: CachedResponse, state: 'HIT' | 'MISS'): string {
    reply.header('x-cache', state);
    reply.header('etag', cached.etag);
    reply.header('content-type', JSON_TYPE);
    // Per-user answers: shared caches on the way must not keep them.
    reply.header('cache-control', 'private, no-cache');
    if (request.headers['if-none-match'] === cached.etag) {
      reply.status(304);
      return '';
    }
    return cached.body;
  }
}
