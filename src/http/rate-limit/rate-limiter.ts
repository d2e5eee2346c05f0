import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, ThrottlerException, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import type { CallerRequest } from '../caller';
import { clientKey } from './client-key';
import { LOGIN_KEY, RateLimitStep, Tier, UNTHROTTLED_KEY } from './rate-limit-step';
import { RateLimitStats } from './rate-limit.stats';
import { RateLimitRecord, RateLimitStorage } from './rate-limit.storage';

// The tier closest to its limit so far, per request: its figures go in the headers.
const shownRemaining = Symbol('rate-limit-shown');
// Set when the request was already counted in its client's anonymous tier before a token lookup.
const lookupCounted = Symbol('rate-limit-lookup');
type Counted = CallerRequest & { [shownRemaining]?: number; [lookupCounted]?: true };

/**
 * Rate limits on @nestjs/throttler's tiers (ThrottlerModule holds their limits) and storage
 * interface: a limit is per user (or client) across all routes, not per route, and the headers
 * describe the tightest tier. The request pipeline counts every request before its body is read,
 * after the bearer token has been resolved and before authentication is enforced, so anonymous
 * and bad-token traffic is limited per client address before it costs anything more.
 */
@Injectable()
export class RateLimiter {
  private readonly throttlers: { name: Tier; limit: number; ttl: number }[];
  private readonly lookupStep: RateLimitStep | undefined;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    private readonly counters: RateLimitStorage,
    private readonly config: AppConfig,
    private readonly stats: RateLimitStats,
  ) {
    const list = Array.isArray(options) ? options : options.throttlers;
    this.throttlers = list.map((t) => ({ name: t.name as Tier, limit: t.limit as number, ttl: t.ttl as number }));
    const anon = this.throttlers.find((t) => t.name === 'anon');
    this.lookupStep = config.rateLimit.enabled && anon ? { tier: 'anon', limit: anon.limit, ttl: anon.ttl, who: 'ip' } : undefined;
  }

  /** The tiers a route counts in, from its decorators: worked out once per route at boot. */
  stepsFor(reflector: Reflector, handler: (...args: unknown[]) => unknown, controller: Type<unknown>): RateLimitStep[] {
    if (!this.config.rateLimit.enabled) return [];
    const targets = [handler, controller];
    if (reflector.getAllAndOverride<boolean>(UNTHROTTLED_KEY, targets)) return [];
    const login = reflector.getAllAndOverride<boolean>(LOGIN_KEY, targets) === true;
    const steps: RateLimitStep[] = [];
    for (const { name: tier, limit, ttl } of this.throttlers) {
      if (tier === 'login-account' || (tier === 'login' && !login)) continue;
      if (typeof limit !== 'number' || typeof ttl !== 'number') throw new Error(`rate limit tier ${tier}: limit and ttl must be numbers`);
      const who = tier === 'burst' || tier === 'sustained' ? 'user' : tier === 'anon' ? 'anonymous-ip' : 'ip';
      steps.push({ tier, limit, ttl, who });
    }
    return steps;
  }

  /**
   * Counts the request in every step, and answers the ThrottlerException of the first step over
   * its limit. Returns a promise only when something had to wait (Redis): the pipeline runs this
   * on every request, and a cache hit is short enough for each needless await to show.
   */
  count(request: FastifyRequest, reply: FastifyReply, steps: readonly RateLimitStep[]): ThrottlerException | undefined | Promise<ThrottlerException | undefined> {
    for (let i = 0; i < steps.length; i++) {
      const key = counterKey(steps[i], request as Counted);
      if (key === undefined) continue;
      const record = this.counters.incrementNow(key, steps[i].ttl, steps[i].limit);
      if (record === undefined) return this.countAsync(request, reply, steps.slice(i));
      const refused = this.apply(request, reply, steps[i], record);
      if (refused) return refused;
    }
    return undefined;
  }

  /**
   * Counts a token that must be looked up in the database in its client's anonymous tier first,
   * whatever the route: a flood of made-up tokens from one client then costs at most that tier's
   * limit in queries, not one query per request. A valid token is counted there once per cache
   * miss (about once per TOKEN_CACHE_TTL_MS); a bad one is not counted a second time.
   */
  countLookup(request: FastifyRequest, reply: FastifyReply): ThrottlerException | undefined | Promise<ThrottlerException | undefined> {
    const anon = this.lookupStep;
    if (anon === undefined) return undefined;
    (request as Counted)[lookupCounted] = true;
    return this.count(request, reply, [anon]);
  }

  /**
   * Login attempts per account, whatever the client address: rotating X-Forwarded-For (behind
   * TRUST_PROXY=true) or addresses must not buy more guesses at one password. Every email is
   * counted the same way, existing or not, so a 429 reveals nothing about which accounts exist.
   */
  async countAccount(request: FastifyRequest, reply: FastifyReply, email: string): Promise<void> {
    const tier = this.throttlers.find((t) => t.name === 'login-account');
    if (!this.config.rateLimit.enabled || tier === undefined) return;
    const step: RateLimitStep = { tier: 'login-account', limit: tier.limit, ttl: tier.ttl, who: 'ip' };
    const key = `login-account:${email.trim().toLowerCase()}`;
    const record = await this.counters.increment(key, step.ttl, step.limit);
    const refused = this.apply(request, reply, step, record);
    if (refused) throw refused;
  }

  private async countAsync(request: FastifyRequest, reply: FastifyReply, steps: readonly RateLimitStep[]): Promise<ThrottlerException | undefined> {
    for (const step of steps) {
      const key = counterKey(step, request as Counted);
      if (key === undefined) continue;
      const refused = this.apply(request, reply, step, await this.counters.increment(key, step.ttl, step.limit));
      if (refused) return refused;
    }
    return undefined;
  }

  private apply(request: FastifyRequest, reply: FastifyReply, { tier, limit, ttl }: RateLimitStep, record: RateLimitRecord): ThrottlerException | undefined {
    if (!record.isBlocked) {
      showLimit(request as Counted, reply, limit, Math.max(0, limit - record.totalHits), record.timeToExpire);
      return undefined;
    }
    // The refusing tier describes the 429, even over another tier already shown at 0 remaining,
    // and its reset is when it admits the next request: the end of its window (timeToExpire) can
    // be sooner or later than that with a sliding window, and would contradict Retry-After.
    const retryAfter = Math.max(1, record.timeToBlockExpire);
    showLimit(request as Counted, reply, limit, 0, retryAfter, true);
    reply.header('retry-after', retryAfter);
    this.stats.rejected(tier);
    return new ThrottlerException(`Too many requests: ${tier} limit is ${limit} per ${ttl / 1000} s; retry in ${retryAfter} s`);
  }
}

/** IETF RateLimit headers plus the X-RateLimit-* spellings, for the tier closest to its limit. */
function showLimit(request: Counted, reply: FastifyReply, limit: number, remaining: number, resetS: number, refusing = false): void {
  const shown = request[shownRemaining];
  if (!refusing && shown !== undefined && shown <= remaining) return;
  request[shownRemaining] = remaining;
  reply.header('ratelimit-limit', limit);
  reply.header('ratelimit-remaining', remaining);
  reply.header('ratelimit-reset', resetS);
  reply.header('x-ratelimit-limit', limit);
  reply.header('x-ratelimit-remaining', remaining);
  reply.header('x-ratelimit-reset', resetS);
}

/** Whose counter a step counts this request in, or undefined when the step does not apply to it. */
function counterKey(step: RateLimitStep, request: Counted): string | undefined {
  if (step.who === 'user') return request.user === undefined ? undefined : `${step.tier}:u:${request.user.id}`;
  if (step.who === 'anonymous-ip' && (request.user !== undefined || request[lookupCounted])) return undefined;
  return `${step.tier}:ip:${clientKey(request.ip)}`;
}
