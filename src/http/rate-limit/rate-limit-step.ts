import { SetMetadata } from '@nestjs/common';

/**
 * Tiers: per user when authenticated, per client IP otherwise, per IP on login, and per account
 * (the email given) on login.
 */
export const TIERS = ['burst', 'sustained', 'anon', 'login', 'login-account'] as const;
export type Tier = (typeof TIERS)[number];

/** One tier as it applies to one route, resolved once at boot. */
export interface RateLimitStep {
  readonly tier: Tier;
  readonly limit: number;
  readonly ttl: number;
  /** Who is counted: the user (anonymous: skipped), the client IP (users: skipped), or the IP always. */
  readonly who: 'user' | 'anonymous-ip' | 'ip';
}

export const UNTHROTTLED_KEY = 'rate-limit:unthrottled';
export const LOGIN_KEY = 'rate-limit:login';

/** Health, metrics: never throttled, whatever the tier. */
export const Unthrottled = () => SetMetadata(UNTHROTTLED_KEY, true);

/** Marks the login route: the strict per-IP login tier applies on top of the anonymous one. */
export const LoginRateLimit = () => SetMetadata(LOGIN_KEY, true);
