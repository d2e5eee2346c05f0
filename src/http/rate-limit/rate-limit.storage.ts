import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { AppConfig } from '../../config/app-config';
import { RedisConnection } from '../../cache/redis-connection';
import { hitWindow, WindowHit, WindowState, WINDOW_LUA } from './sliding-window';

// Bounds memory whatever the number of distinct clients (e.g. an IP scan): ~100 bytes a key.
export const MAX_LOCAL_KEYS = 200_000;
const SWEEP_INTERVAL_MS = 30_000;

interface LocalEntry extends WindowState {
  ttl: number;
}

function toRecord(hit: Pick<WindowHit, 'allowed' | 'count' | 'resetMs' | 'retryMs'>, limit: number): ThrottlerStorageRecord {
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
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly local = new Map<string, LocalEntry>();
  private readonly sweeper: NodeJS.Timeout;
  fallbacks = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
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
   * answer. Saves the guard two promise round trips per request on the common path.
   */
  incrementNow(key: string, ttl: number, limit: number): ThrottlerStorageRecord | undefined {
    return this.redis.enabled ? undefined : this.incrementLocal(key, ttl, limit, Date.now());
  }

  get size(): number {
    return this.local.size;
  }

  incrementLocal(key: string, ttl: number, limit: number, now: number): ThrottlerStorageRecord {
    const entry = this.local.get(key);
    const hit = hitWindow(entry, now, ttl, limit);
    if (entry) {
      entry.start = hit.state.start;
      entry.current = hit.state.current;
      entry.previous = hit.state.previous;
    } else {
      if (this.local.size >= MAX_LOCAL_KEYS) this.makeRoom(now);
      this.local.set(key, { ...hit.state, ttl });
    }
    return toRecord(hit, limit);
  }

  /** Drops keys idle for two windows: they would count as zero anyway. */
  sweep(now: number): void {
    for (const [key, entry] of this.local) {
      if (now - entry.start >= 2 * entry.ttl) this.local.delete(key);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private makeRoom(now: number): void {
    this.sweep(now);
    // Still full of live keys: forget the oldest (Map keeps insertion order).
    while (this.local.size >= MAX_LOCAL_KEYS) this.local.delete(this.local.keys().next().value!);
  }
}
