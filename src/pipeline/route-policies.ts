import { Query, Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RouteConfig } from '@nestjs/platform-fastify';
import { getMetadataStorage } from 'class-validator';
import type { RouteOptions } from 'fastify';
import { ADMIN_KEY, PUBLIC_KEY } from '../access/auth.decorators';
import { CACHED_KEY, CachedOptions } from '../cache/cached-options';
import { CachedInterceptor } from '../cache/cached.interceptor';
import { RateLimiter } from '../http/rate-limit/rate-limiter';
import { POLICY, RouteAccess, RoutePolicy } from '../http/route-policy';

type Handler = (...args: unknown[]) => unknown;

/** Which controller method a Fastify route runs: the same for every app in the process. */
export interface RouteHandler {
  readonly controller: Type<unknown>;
  readonly method: string;
}

export interface RegisteredRoute {
  readonly policy: RoutePolicy;
  /** Undefined for a route that is not a Nest route (Swagger UI, CORS preflight). */
  readonly handler: RouteHandler | undefined;
}

const HANDLER = 'handler';
const ROUTE_CONFIG_KEY = RouteConfig({}).KEY;

// Nest keys route-argument metadata `${paramtype}:${index}`. The paramtype of @Query() is read off
// the decorator itself rather than from Nest's internal enum.
const QUERY_PARAMTYPE = (() => {
  class Probe {
    handle(): void {}
  }
  Query()(Probe.prototype, 'handle', 0);
  const [key] = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, 'handle') as object);
  return key.split(':')[0];
})();

/**
 * Route policies from the controllers' decorators, for one app. Before the routes are registered,
 * `tagHandlers` names each route's controller method in its Fastify route config (what
 * `@RouteConfig()` on each handler would do); as Fastify registers each route, `complete` works
 * out its policy once and leaves it in the route's config. Only Nest's public discovery API and
 * decorator metadata are used.
 */
export class RoutePolicies {
  private readonly reflector: Reflector;
  private readonly limiter: RateLimiter;
  /** `GET /api/projects/:id` -> the route, for the OpenAPI document (openapi.ts). */
  private readonly registered = new Map<string, RegisteredRoute>();

  constructor(
    private readonly app: NestFastifyApplication,
    private readonly headers: Readonly<Record<string, string>>,
    /** The policy of a route that is not a Nest route, or undefined when it is not expected. */
    private readonly external: (route: RouteOptions) => Omit<RoutePolicy, 'template'> | undefined,
  ) {
    this.reflector = app.get(Reflector);
    this.limiter = app.get(RateLimiter);
  }

  tagHandlers(): void {
    const discovery = this.app.get(DiscoveryService);
    const scanner = this.app.get(MetadataScanner);
    for (const wrapper of discovery.getControllers()) {
      const controller = wrapper.metatype as Type<unknown> | undefined;
      const instance = wrapper.instance as object | undefined;
      if (!controller || !instance) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, Handler>;
      for (const method of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const config = (Reflect.getMetadata(ROUTE_CONFIG_KEY, handler) ?? {}) as Record<string, unknown>;
        const tagged = config[HANDLER] as RouteHandler | undefined;
        if (tagged !== undefined && tagged.controller !== controller) {
          // One function object carries one config: a handler inherited by two controllers
          // would get the class-level decorators of only one of them.
          throw new Error(`${controller.name}.${method} is also a route of ${tagged.controller.name}: give each controller its own handler`);
        }
        Reflect.defineMetadata(ROUTE_CONFIG_KEY, { ...config, [HANDLER]: { controller, method } satisfies RouteHandler }, handler);
      }
    }
  }

  /**
   * For Fastify's onRoute hook. Fails the boot for a route without a policy, so no route can skip
   * the access check by being added some other way.
   */
  complete(route: RouteOptions): void {
    const config = (route.config ?? {}) as Record<string, unknown>;
    const target = config[HANDLER] as RouteHandler | undefined;
    const policy = target === undefined ? this.external(route) : this.policyOf(target);
    if (policy === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} has no access policy: routes come from Nest controllers (or are listed as external in src/pipeline/pipeline.ts)`);
    }
    const completed: RoutePolicy = { ...policy, template: route.url };
    route.config = { ...config, [POLICY]: completed } as RouteOptions['config'];
    for (const method of [route.method].flat()) this.registered.set(`${method} ${route.url}`, { policy: completed, handler: target });
  }

  /** The route Fastify serves for a method and template, with its policy and (for Nest routes) its handler. */
  route(method: string, template: string): RegisteredRoute | undefined {
    return this.registered.get(`${method.toUpperCase()} ${template}`);
  }

  private policyOf({ controller, method }: RouteHandler): Omit<RoutePolicy, 'template'> {
    const prototype = controller.prototype as Record<string, Handler>;
    const handler = prototype[method];
    return {
      external: false,
      access: accessOf(this.reflector, handler, controller),
      rateLimits: this.limiter.stepsFor(this.reflector, handler, controller),
      queryKeys: queryKeysOf(controller, prototype, method),
      earlyCache: earlyCacheOf(handler, controller),
      headers: this.headers,
    };
  }
}

function accessOf(reflector: Reflector, handler: Handler, controller: Type<unknown>): RouteAccess {
  const targets = [handler, controller];
  const isPublic = reflector.getAllAndOverride<true | 'identifies' | undefined>(PUBLIC_KEY, targets);
  if (isPublic === 'identifies') return 'public-identify';
  if (isPublic === true) return 'public';
  return reflector.getAllAndOverride<boolean>(ADMIN_KEY, targets) === true ? 'admin' : 'user';
}

/**
 * The names the route's @Query() takes: its DTO's validated properties (the same list the global
 * ValidationPipe whitelists), or the one name of @Query('name'). None when it takes no query.
 */
function queryKeysOf(controller: Type<unknown>, prototype: object, method: string): ReadonlySet<string> {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<string, { index: number; data?: unknown }>;
  const types = (Reflect.getMetadata('design:paramtypes', prototype, method) ?? []) as Type<unknown>[];
  const keys = new Set<string>();
  for (const [key, arg] of Object.entries(args)) {
    if (key.split(':')[0] !== QUERY_PARAMTYPE) continue;
    if (typeof arg.data === 'string') {
      keys.add(arg.data);
      continue;
    }
    const dto = types[arg.index];
    const properties = dto === undefined || dto === Object ? [] : getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    if (properties.length === 0) throw new Error(`${controller.name}.${method}: @Query() needs a DTO class with validated properties`);
    for (const property of properties) keys.add(property.propertyName);
  }
  return keys;
}

/**
 * @Cached options when a hit may be answered before Nest: only for routes with no guard or
 * interceptor of their own besides the one @Cached binds, since an early answer runs neither.
 */
function earlyCacheOf(handler: Handler, controller: Type<unknown>): CachedOptions | undefined {
  const options = Reflect.getMetadata(CACHED_KEY, handler) as CachedOptions | undefined;
  if (options === undefined) return undefined;
  const others = (key: string, target: object) => {
    const bound = Reflect.getMetadata(key, target) as unknown[] | undefined;
    return bound?.some((item) => item !== CachedInterceptor) === true;
  };
  const own = [GUARDS_METADATA, INTERCEPTORS_METADATA].some((key) => others(key, handler) || others(key, controller));
  return own ? undefined : options;
}
