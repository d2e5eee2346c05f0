import { ExecutionContext, Injectable, Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { FastifyRequest } from 'fastify';
import type { CachedOptions } from './cached.decorator';

/** A @Cached route as Nest routes it: its controller, handler and cache options. */
export interface CachedRoute {
  readonly controller: Type<unknown>;
  /** As Nest's ExecutionContext hands it out. */
  readonly handler: ReturnType<ExecutionContext['getHandler']>;
  readonly options: CachedOptions;
}

/**
 * GET routes whose cache hits may be answered before Nest's pipeline runs (see CacheHitsHook),
 * learned from the requests CachedInterceptor sees: Fastify's route template maps to exactly one
 * handler, so the first request through Nest tells which handler, guards and options apply.
 *
 * A route with guards or interceptors of its own is never learned: the early answer runs only the
 * global AccessGuard, which is all that runs before a hit in Nest for every other @Cached route.
 */
@Injectable()
export class CachedRoutes {
  private readonly routes = new Map<string, CachedRoute>();

  learn(request: FastifyRequest, context: ExecutionContext, options: CachedOptions): void {
    const template = request.routeOptions.url;
    if (template === undefined || this.routes.has(template)) return;
    const handler = context.getHandler();
    const controller = context.getClass();
    const extra = [GUARDS_METADATA, INTERCEPTORS_METADATA].some(
      (key) => hasAny(Reflect.getMetadata(key, handler)) || hasAny(Reflect.getMetadata(key, controller)),
    );
    if (!extra) this.routes.set(template, { controller, handler, options });
  }

  /** The learned route for a GET request, if any. */
  forRequest(request: FastifyRequest): CachedRoute | undefined {
    if (request.method !== 'GET') return undefined;
    const template = request.routeOptions.url;
    return template === undefined ? undefined : this.routes.get(template);
  }
}

function hasAny(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}
