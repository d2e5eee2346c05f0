import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AccessGuard } from '../auth/access.guard';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { CacheService } from './cache.service';
import { entryOf, prepareCached } from './cached-response';
import { CachedRoute, CachedRoutes } from './cached-routes';

/**
 * Answers cache hits of learned @Cached routes from a Fastify onRequest hook, before Nest's router,
 * guards-consumer and interceptor chain run. In Nest a hit only ever ran AccessGuard and the
 * cache lookup; this runs the very same guard instance (token, then rate limit, then 401/403) and
 * the same lookup, and sends the same bytes and headers. Everything else (a miss, an entry only in
 * Redis, a refused request) continues into Nest, where the guard reuses this request's outcome:
 * errors keep their one shape and nothing is counted twice.
 *
 * Measured: Nest's per-request pipeline was most of a cached GET's cost (docs/BENCHMARKS.md).
 */
@Injectable()
export class CacheHitsHook implements OnApplicationBootstrap {
  private readonly logger = new Logger(CacheHitsHook.name);

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly cache: CacheService,
    private readonly routes: CachedRoutes,
    private readonly guard: AccessGuard,
  ) {}

  // After every other onRequest hook (security headers, request id, metrics), so an early answer
  // carries the same headers and is measured like any other.
  onApplicationBootstrap(): void {
    if (!this.cache.enabled) return;
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request, reply, done) => {
      const route = this.routes.forRequest(request);
      if (route === undefined) return done();
      this.answer(request, reply, route).then(
        (answered) => {
          if (!answered) done();
        },
        (err: unknown) => {
          // Never fatal here: Nest serves the request the ordinary way.
          this.logger.warn({ msg: 'early cache answer failed; handing the request to Nest', err });
          done();
        },
      );
    });
  }

  private async answer(request: AuthenticatedRequest, reply: FastifyReply, route: CachedRoute): Promise<boolean> {
    const context = new ExecutionContextHost([request, reply, undefined], route.controller, route.handler);
    try {
      await this.guard.canActivate(context);
    } catch {
      return false;
    }
    const user = request.user;
    if (user === undefined) return false;
    const { key, tags } = entryOf(request, user, route.options);
    const hit = this.cache.responses.peek(key, tags);
    if (hit === undefined) return false;
    void reply.send(prepareCached(request, reply, hit, 'HIT'));
    return true;
  }
}
