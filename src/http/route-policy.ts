import type { FastifyRequest } from 'fastify';
import type { CachedOptions } from '../cache/cached-options';
import type { RateLimitStep } from './rate-limit/rate-limit-step';

/** Who may call a route. `public-identify`: anyone, but a valid token still identifies the caller. */
export type RouteAccess = 'user' | 'admin' | 'public' | 'public-identify';

/**
 * Everything the request pipeline needs to know about a route before reading its body, worked out
 * once at boot from the controller's decorators (see src/pipeline/route-policies.ts) and carried on the Fastify
 * route, so a request costs one property read to find it.
 */
export interface RoutePolicy {
  /** Fastify's route template (`/api/projects/:id`), the label of every per-route figure. */
  readonly template: string;
  /** Not a Nest route (Swagger UI, CORS preflight): no access check, no query rules. */
  readonly external: boolean;
  readonly access: RouteAccess;
  readonly rateLimits: readonly RateLimitStep[];
  /** The query parameters the route takes: any other is refused before anything else runs. */
  readonly queryKeys: ReadonlySet<string>;
  /** Set when cache hits may be answered before Nest: @Cached, with no guard or interceptor of its own. */
  readonly earlyCache: CachedOptions | undefined;
  /** Security headers for this route's answers (the API set, or helmet's page set under /docs). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Where a policy sits in Fastify's route config. */
export const POLICY = 'policy';

const noted = Symbol('route-policy');
type Noted = FastifyRequest & { [noted]?: RoutePolicy | null };

/**
 * The matched route's policy, or undefined for an unmatched URL. Fastify's `request.routeOptions`
 * builds a fresh object on every access, so it is read once per request and kept on it.
 */
export function policyOf(request: FastifyRequest): RoutePolicy | undefined {
  const r = request as Noted;
  let policy = r[noted];
  if (policy === undefined) {
    policy = (request.routeOptions.config as { [POLICY]?: RoutePolicy } | undefined)?.[POLICY] ?? null;
    r[noted] = policy;
  }
  return policy ?? undefined;
}

/** The matched route's template (`/api/projects/:id`), or undefined for an unmatched URL. */
export function routeTemplate(request: FastifyRequest): string | undefined {
  return policyOf(request)?.template;
}
