import { ExecutionContext, Injectable, Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { FastifyRequest } from 'fastify';
import type { CachedOptions } from './cached-options';
import { routeTemplate } from '../http/route-template';

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
 * A route with guards or interceptors of its own (other than the one @Cached binds) is never
 * learned: the early answer runs only the global AccessGuard, which is all that runs before a hit
 * in Nest for every other @Cached route.
 */
@Injectable()
export class CachedRoutes {
  private readonly routes = new Map<string, CachedRoute>();

  /** `learner` is the interceptor @Cached binds to the route, the one expected there. */
  learn(request: FastifyRequest, context: ExecutionContext, options: CachedOptions, learner: unknown): void {
    const template = routeTemplate(request);
    if (template === undefined || this.routes.has(template)) return;
    const handler = context.getHandler();
    const controller = context.getClass();
    const others = (key: string, target: object) => hasOther(Reflect.getMetadata(key, target), learner);
    const extra = [GUARDS_METADATA, INTERCEPTORS_METADATA].some((key) => others(key, handler) || others(key, controller));
    if (!extra) this.routes.set(template, { controller, handler, options });
  }

  /** The learned route for a GET request, if any. */
  forRequest(request: FastifyRequest): CachedRoute | undefined {
    if (request.method !== 'GET') return undefined;
    const template = routeTemplate(request);
    return template === undefined ? undefined : this.routes.get(template);
  }
}

function hasOther(value: unknown, expected: unknown): boolean {
  return Array.isArray(value) && value.some((item) => item !== expected);
}
