import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../../config/app-config';
import { RedisConnection } from '../../cache/redis-connection';
import { hitWindow, WindowHit, WindowState, WINDOW_LUA } from './sliding-window';

export type RateLimitRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

// Bounds memory whatever the number of distinct clients (an IP scan, spoofed X-Forwarded-For
// behind TRUST_PROXY=true): about 150 bytes a key.
export const MAX_LOCAL_KEYS = 200_000;

function toRecord(hit: Pick<WindowHit, 'allowed' | 'count' | 'resetMs' | 'retryMs'>, limit: number): RateLimitRecord {
  return {
    totalHits: hit.allowed ? hit.count : limit + 1,
    timeToExpire: Math.ceil(hit.resetMs / 1000),
    isBlocked: !hit.allowed,
    timeToBlockExpire: Math.ceil(hit.retryMs / 1000),
  };
}

/**
 * @nestjs/throttler storage with O(1) sliding-window counters (the stock one keeps and scans an
 * array of every hit). With REDIS_URL the counters live in Redis, updated by one atomic script,
 * so all instances enforce one limit; if Redis fails, it counts locally (or lets requests
 * through, RATE_LIMIT_REDIS_FAILURE=open), logs and counts the fallback, and never errors.
 *
 * Local counters sit in an LRU bounded in keys: a full map drops its least recently counted key in
 * O(1) (a sweep of 200,000 keys on every new key blocked the loop for ~100 ms). A dropped key had
 * been idle longest; an idle window counts as zero anyway once two windows old.
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage {
  private readonly local = new LRUCache<string, WindowState>({ max: MAX_LOCAL_KEYS });
  fallbacks = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
  ) {}

  async increment(key: string, ttl: number, limit: number): Promise<RateLimitRecord> {
    if (this.redis.enabled) {
      try {
        const [allowed, count, resetMs, retryMs] = (await this.redis.call((c) =>
          c.eval(WINDOW_LUA, { keys: [`${this.config.cache.namespace}:rl:${key}`], arguments: [String(ttl), String(limit)] }),
        )) as number[];
        return toRecord({ allowed: allowed === 1, count, resetMs, retryMs }, limit);
      } catch {
        this.fallbacks++;
        if (this.config.rateLimit.redisFailure === 'open') {
          return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
        }
      }
    }
    return this.incrementLocal(key, ttl, limit, Date.now());
  }

  /**
   * The record at once when counting is local (no Redis); undefined when only `increment` can
   * answer. Saves the access check two promise round trips per request on the common path.
   */
  incrementNow(key: string, ttl: number, limit: number): RateLimitRecord | undefined {
    return this.redis.enabled ? undefined : this.incrementLocal(key, ttl, limit, Date.now());
  }

  /** Keys held locally (idle ones included, until the bound pushes them out). */
  get size(): number {
    return this.local.size;
  }

  incrementLocal(key: string, ttl: number, limit: number, now: number): RateLimitRecord {
    const entry = this.local.get(key);
    const hit = hitWindow(entry, now, ttl, limit);
    if (entry) {
      entry.start = hit.state.start;
      entry.current = hit.state.current;
      entry.previous = hit.state.previous;
    } else {
      this.local.set(key, { ...hit.state });
    }
    return toRecord(hit, limit);
  }
}
