import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RateLimitGuard } from '../http/rate-limit/rate-limit.guard';
import { ADMIN_KEY, AuthenticatedRequest, PUBLIC_KEY } from './auth.decorators';
import type { AuthUser } from './auth.types';
import { TokenService } from './token.service';

// Our tokens are "pbt_" + 43 base64url characters; anything far longer is not worth hashing.
const BEARER = /^Bearer ([A-Za-z0-9_-]{1,128})$/;

// The check's outcome, kept on the request: when CacheHitsHook has already checked a request
// before Nest runs, Nest's own pass through this guard reuses that outcome (the same answer or the
// same error) instead of counting the request against the rate limit a second time.
const outcome = Symbol('access-outcome');
type Checked = AuthenticatedRequest & { [outcome]?: Promise<boolean> };

/**
 * The one global guard, so the order is fixed: resolve the bearer token (if any) -> rate limit
 * (per user, or per IP for anonymous and bad-token traffic) -> enforce authentication (401) and
 * the admin role (403). @Public() routes skip token resolution and enforcement.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  // Per route, once: decorator metadata does not change at run time.
  private readonly routes = new WeakMap<object, { isPublic: boolean; adminOnly: boolean }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly rateLimit: RateLimitGuard,
  ) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Checked>();
    return (request[outcome] ??= this.check(context, request));
  }

  // Awaits only what is still pending: with the token and the counters in memory (the common
  // case) the check runs through without yielding, which is a measurable share of a cache hit.
  private async check(context: ExecutionContext, request: AuthenticatedRequest): Promise<boolean> {
    const { isPublic, adminOnly } = this.route(context);
    let problem = isPublic ? undefined : this.identify(request);
    if (problem instanceof Promise) problem = await problem;

    const limited = this.rateLimit.limit(context);
    if (limited !== undefined) await limited;

    if (isPublic) return true;
    if (problem !== undefined) throw new UnauthorizedException(problem);
    if (adminOnly && request.user!.role !== 'admin') {
      throw new ForbiddenException('Admin role required');
    }
    return true;
  }

  private route(context: ExecutionContext): { isPublic: boolean; adminOnly: boolean } {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (route === undefined) {
      const targets = [handler, context.getClass()];
      route = {
        isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
        adminOnly: this.reflector.getAllAndOverride<boolean>(ADMIN_KEY, targets) === true,
      };
      this.routes.set(handler, route);
    }
    return route;
  }

  /** Sets request.user for a valid token; otherwise returns why the caller is not authenticated. */
  private identify(request: AuthenticatedRequest): string | undefined | Promise<string | undefined> {
    const header = request.headers.authorization;
    if (header === undefined) return 'Authentication required: send Authorization: Bearer <token>';
    const match = BEARER.exec(header);
    if (!match) return 'Malformed Authorization header: expected Bearer <token>';
    const token = match[1];
    const known = this.tokens.known(token);
    if (known !== undefined) return this.accept(request, token, known);
    return this.tokens.resolve(token).then((user) => this.accept(request, token, user));
  }

  private accept(request: AuthenticatedRequest, token: string, user: AuthUser | undefined): string | undefined {
    if (!user) return 'Invalid or revoked token';
    request.user = user;
    request.token = token;
    return undefined;
  }
}
