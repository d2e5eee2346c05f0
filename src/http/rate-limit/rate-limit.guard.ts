import { ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  SkipThrottle,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { THROTTLER_LIMIT, THROTTLER_SKIP, THROTTLER_TTL } from '@nestjs/throttler/dist/throttler.constants';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../../config/app-config';
import type { AuthenticatedRequest } from '../../auth/auth.decorators';
import { RateLimitStats } from './rate-limit.stats';
import { RateLimitStorage } from './rate-limit.storage';

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
    @InjectThrottlerStorage() private readonly counters: RateLimitStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
    private readonly stats: RateLimitStats,
  ) {
    super(options, counters, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.limit(context);
    return true;
  }

  /**
   * Counts the request in every tier that applies, or throws ThrottlerException. Returns a promise
   * only when something had to wait (the route's first request, Redis): AccessGuard runs this on
   * every request, and a cache hit is short enough for each needless await to show.
   */
  limit(context: ExecutionContext): Promise<void> | undefined {
    if (!this.config.rateLimit.enabled) return undefined;
    const plan = this.plans.get(context.getHandler());
    if (plan === undefined) {
      return this.planFor(context).then((planned) => {
        this.plans.set(context.getHandler(), planned);
        return this.limit(context);
      });
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    for (let i = 0; i < plan.length; i++) {
      const key = counterKey(plan[i], request);
      if (key === undefined) continue;
      const record = this.counters.incrementNow(key, plan[i].ttl, plan[i].limit);
      if (record === undefined) return this.limitAsync(context, request, plan.slice(i));
      this.apply(context, request, plan[i], record);
    }
    return undefined;
  }

  /** The same, through the storage's asynchronous path (Redis). */
  private async limitAsync(context: ExecutionContext, request: AuthenticatedRequest, steps: Step[]): Promise<void> {
    for (const step of steps) {
      const key = counterKey(step, request);
      if (key !== undefined) this.apply(context, request, step, await this.counters.increment(key, step.ttl, step.limit));
    }
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

  private apply(context: ExecutionContext, request: AuthenticatedRequest, { tier, limit, ttl }: Step, record: ThrottlerStorageRecord): void {
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

/** Whose counter a tier counts this request in, or undefined when the tier does not apply to it. */
function counterKey(step: Step, request: AuthenticatedRequest): string | undefined {
  if (step.who === 'user') return request.user === undefined ? undefined : `${step.tier}:u:${request.user.id}`;
  if (step.who === 'anonymous-ip' && request.user !== undefined) return undefined;
  return `${step.tier}:ip:${request.ip}`;
}
