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
import { THROTTLER_LIMIT, THROTTLER_SKIP, THROTTLER_TTL } from '@nestjs/throttler/dist/throttler.constants';
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

/** One tier as it applies to one route, resolved once: limits, TTLs and skips come from metadata. */
interface Step {
  readonly tier: Tier;
  readonly limit: number;
  readonly ttl: number;
  /** Who is counted: the user (anonymous: skipped), the client IP (users: skipped), or the IP always. */
  readonly who: 'user' | 'anonymous-ip' | 'ip';
}

// The tier closest to its limit so far, per request: its figures go in the headers.
const shownRemaining = Symbol('rate-limit-shown');
type Shown = { [shownRemaining]?: number };

/**
 * @nestjs/throttler's guard with our tiers and keys: a limit is per user (or IP) across all routes,
 * not per route, and the headers describe the tightest tier. Runs from AccessGuard, after the
 * bearer token has been resolved and before authentication is enforced, so anonymous and
 * bad-token traffic is limited per IP before it costs anything more.
 *
 * The stock canActivate resolves every tier's skip, limit and TTL from decorator metadata on each
 * request (about 56 metadata lookups here, a measured 24 µs); a route's answer never changes, so
 * it is worked out once per route and kept.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly plans = new WeakMap<object, Step[]>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
    private readonly stats: RateLimitStats,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.config.rateLimit.enabled) return true;
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = await this.planFor(context);
      this.plans.set(handler, plan);
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    for (const step of plan) {
      if (step.who === 'user' && request.user === undefined) continue;
      if (step.who === 'anonymous-ip' && request.user !== undefined) continue;
      await this.count(context, request, step);
    }
    return true;
  }

  private async planFor(context: ExecutionContext): Promise<Step[]> {
    const targets = [context.getHandler(), context.getClass()];
    const login = this.reflector.getAllAndOverride<boolean>(LOGIN_KEY, targets) === true;
    const steps: Step[] = [];
    for (const throttler of this.throttlers) {
      const tier = throttler.name as Tier;
      if (this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + tier, targets)) continue;
      if (tier === 'login' && !login) continue;
      const limit = await this.resolve(context, this.reflector.getAllAndOverride(THROTTLER_LIMIT + tier, targets) ?? throttler.limit);
      const ttl = await this.resolve(context, this.reflector.getAllAndOverride(THROTTLER_TTL + tier, targets) ?? throttler.ttl);
      const who = tier === 'burst' || tier === 'sustained' ? 'user' : tier === 'anon' ? 'anonymous-ip' : 'ip';
      steps.push({ tier, limit, ttl, who });
    }
    return steps;
  }

  private async resolve(context: ExecutionContext, value: unknown): Promise<number> {
    const resolved = typeof value === 'function' ? await (value as (c: ExecutionContext) => unknown)(context) : value;
    if (typeof resolved !== 'number' || !Number.isFinite(resolved)) throw new Error(`rate limit setting is not a number: ${String(resolved)}`);
    return resolved;
  }

  private async count(context: ExecutionContext, request: AuthenticatedRequest, { tier, limit, ttl, who }: Step): Promise<void> {
    const tracker = who === 'user' ? `u:${request.user!.id}` : `ip:${request.ip}`;
    const record = await this.storageService.increment(`${tier}:${tracker}`, ttl, limit, ttl, tier);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    this.showLimit(request, reply, limit, Math.max(0, limit - record.totalHits), record.timeToExpire);

    if (record.isBlocked) {
      const retryAfter = Math.max(1, record.timeToBlockExpire);
      reply.header('retry-after', retryAfter);
      this.stats.rejected(tier);
      throw new ThrottlerException(`Too many requests: ${tier} limit is ${limit} per ${ttl / 1000} s; retry in ${retryAfter} s`);
    }
  }

  /** IETF RateLimit headers plus the X-RateLimit-* spellings, for the tier closest to its limit. */
  private showLimit(request: AuthenticatedRequest & Shown, reply: FastifyReply, limit: number, remaining: number, resetS: number): void {
    const shown = request[shownRemaining];
    if (shown !== undefined && shown <= remaining) return;
    request[shownRemaining] = remaining;
    reply.header('ratelimit-limit', limit);
    reply.header('ratelimit-remaining', remaining);
    reply.header('ratelimit-reset', resetS);
    reply.header('x-ratelimit-limit', limit);
    reply.header('x-ratelimit-remaining', remaining);
    reply.header('x-ratelimit-reset', resetS);
  }
}
