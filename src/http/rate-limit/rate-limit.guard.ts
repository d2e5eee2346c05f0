import { ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  SkipThrottle,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../../config/app-config';
import type { AuthenticatedRequest } from '../../auth/auth.decorators';
import { RateLimitStats } from './rate-limit.stats';

/** Tiers: per user when authenticated, per client IP otherwise, and per IP on login. */
export type Tier = 'burst' | 'sustained' | 'anon' | 'login';

const LOGIN_KEY = 'rate-limit:login';
/** Marks the login route: the strict per-IP login tier applies on top of the anonymous one. */
export const LoginRateLimit = () => SetMetadata(LOGIN_KEY, true);

/** Health, metrics: never throttled, whatever the tier. */
export const Unthrottled = () => SkipThrottle({ burst: true, sustained: true, anon: true, login: true });

interface Shown {
  remaining: number;
}
const shownLimits = new WeakMap<object, Shown>();

/**
 * @nestjs/throttler's guard with our tiers and keys: a limit is per user (or IP) across all routes,
 * not per route, and the headers describe the tightest tier. Runs from AccessGuard, after the
 * bearer token has been resolved and before authentication is enforced, so anonymous and
 * bad-token traffic is limited per IP before it costs anything more.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
    private readonly stats: RateLimitStats,
  ) {
    super(options, storage, reflector);
  }

  protected override async shouldSkip(): Promise<boolean> {
    return !this.config.rateLimit.enabled;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as AuthenticatedRequest;
    return request.user ? `u:${request.user.id}` : `ip:${request.ip}`;
  }

  protected override async handleRequest({ context, limit, ttl, throttler }: ThrottlerRequest): Promise<boolean> {
    const tier = throttler.name as Tier;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!this.applies(tier, request, context)) return true;

    const tracker = tier === 'login' ? `ip:${request.ip}` : await this.getTracker(request as unknown as Record<string, unknown>);
    const record = await this.storageService.increment(`${tier}:${tracker}`, ttl, limit, ttl, tier);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    this.showLimit(request, reply, limit, Math.max(0, limit - record.totalHits), record.timeToExpire);

    if (record.isBlocked) {
      const retryAfter = Math.max(1, record.timeToBlockExpire);
      reply.header('retry-after', retryAfter);
      this.stats.rejected(tier);
      throw new ThrottlerException(`Too many requests: ${tier} limit is ${limit} per ${ttl / 1000} s; retry in ${retryAfter} s`);
    }
    return true;
  }

  private applies(tier: Tier, request: AuthenticatedRequest, context: ExecutionContext): boolean {
    switch (tier) {
      case 'burst':
      case 'sustained':
        return request.user !== undefined;
      case 'anon':
        return request.user === undefined;
      case 'login':
        return this.reflector.getAllAndOverride<boolean>(LOGIN_KEY, [context.getHandler(), context.getClass()]) === true;
    }
  }

  /** IETF RateLimit headers plus the X-RateLimit-* spellings, for the tier closest to its limit. */
  private showLimit(request: object, reply: FastifyReply, limit: number, remaining: number, resetS: number): void {
    const shown = shownLimits.get(request);
    if (shown && shown.remaining <= remaining) return;
    shownLimits.set(request, { remaining });
    reply.header('ratelimit-limit', limit);
    reply.header('ratelimit-remaining', remaining);
    reply.header('ratelimit-reset', resetS);
    reply.header('x-ratelimit-limit', limit);
    reply.header('x-ratelimit-remaining', remaining);
    reply.header('x-ratelimit-reset', resetS);
  }
}
