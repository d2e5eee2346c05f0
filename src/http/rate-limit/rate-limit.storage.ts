import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../../config/app-config';
import { RedisConnection } from '../../cache/redis-connection';
import { IPC, WorkerChannel } from '../../cluster/worker-channel';
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

export interface RateLimitHit {
  readonly key: string;
  readonly ttl: number;
  readonly limit: number;
}

/**
 * Sliding-window counters in memory, in an LRU bounded in keys: a full map drops its least
 * recently counted key in O(1) (a sweep of 200,000 keys on every new key blocked the loop for
 * ~100 ms). A dropped key had been idle longest; an idle window counts as zero anyway once two
 * windows old. One process's counters, or with WORKERS > 1 and no Redis, the cluster primary's.
 */
export class LocalCounters {
  private readonly windows = new LRUCache<string, WindowState>({ max: MAX_LOCAL_KEYS });

  get size(): number {
    return this.windows.size;
  }

  hit(key: string, ttl: number, limit: number, now: number): RateLimitRecord {
    const entry = this.windows.get(key);
    const hit = hitWindow(entry, now, ttl, limit);
    if (entry) {
      entry.start = hit.state.start;
      entry.current = hit.state.current;
      entry.previous = hit.state.previous;
    } else {
      this.windows.set(key, { ...hit.state });
    }
    return toRecord(hit, limit);
  }
}

/**
 * @nestjs/throttler storage with O(1) sliding-window counters (the stock one keeps and scans an
 * array of every hit). With REDIS_URL the counters live in Redis, updated by one atomic script,
 * so all instances enforce one limit; if Redis fails, it counts locally (or lets requests
 * through, RATE_LIMIT_REDIS_FAILURE=open), logs and counts the fallback, and never errors.
 * A cluster worker without Redis (or with Redis failing) counts in the primary's counters, one
 * IPC round trip per hit, so that N workers enforce one limit, not N times it.
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage {
  private readonly local = new LocalCounters();
  fallbacks = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
    private readonly channel: WorkerChannel,
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
    if (this.channel.enabled) {
      try {
        const hit: RateLimitHit = { key, ttl, limit };
        return await this.channel.request<RateLimitRecord>(IPC.rateLimit, hit);
      } catch {
        // The primary is gone (this worker is about to stop): count here rather than fail.
        this.fallbacks++;
      }
    }
    return this.incrementLocal(key, ttl, limit, Date.now());
  }

  /**
   * The record at once when counting is in this process (no Redis, no cluster); undefined when
   * only `increment` can answer. Saves the access check two promise round trips per request on
   * the common path.
   */
  incrementNow(key: string, ttl: number, limit: number): RateLimitRecord | undefined {
    return this.redis.enabled || this.channel.enabled ? undefined : this.incrementLocal(key, ttl, limit, Date.now());
  }

  /** Keys held locally (idle ones included, until the bound pushes them out). */
  get size(): number {
    return this.local.size;
  }

  incrementLocal(key: string, ttl: number, limit: number, now: number): RateLimitRecord {
    return this.local.hit(key, ttl, limit, now);
  }
}
