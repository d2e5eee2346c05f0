import { performance } from 'node:perf_hooks';
import { BadRequestException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import { RedisConnection } from '../cache/redis-connection';
import { AppConfig } from '../config/app-config';
import { classifyDbError, PoolTimeoutError } from '../database/database.errors';
import { PoolObserver } from '../database/pool-observer';
import { RateLimitStorage } from '../http/rate-limit/rate-limit.storage';
import { toCacheStatsDto, toPoolSnapshotDto } from '../monitoring/performance.mapper';
import { CacheReportDto, DbTestDto, DbTestResultDto, PoolStatusDto } from './debug.dto';
import { toDescribedPoolDto, toEffectiveConfigDto, toTagVersionStatsDto } from './debug.mapper';
import { EffectiveConfigDto } from './effective-config.dto';

const round = (ms: number) => Math.round(ms * 10) / 10;
// Keeps the sleeping statement clear of the statement timeout, which would cancel it.
const STATEMENT_MARGIN_MS = 500;

@Injectable()
export class DebugService {
  /** Connections db-test calls hold or wait for, across all concurrent calls. */
  private readonly slots: Slots;

  constructor(
    private readonly pool: PoolObserver,
    private readonly db: DataSource,
    private readonly cache: CacheService,
    private readonly redis: RedisConnection,
    private readonly config: AppConfig,
    private readonly rateLimits: RateLimitStorage,
  ) {
    this.slots = new Slots(config.poolMax - config.debugDbTestReserve);
  }

  poolStatus(): PoolStatusDto {
    const [primary, ...replicas] = this.pool.poolNames();
    return {
      ...toDescribedPoolDto(this.pool.snapshot(primary)),
      replicas: replicas.map((name) => toDescribedPoolDto(this.pool.snapshot(name))),
    };
  }

  /**
   * `numTests` concurrent queries, each holding a pooled connection for `delaySeconds`: shows what
   * the pool does under that load (waits, overflow, timeouts past DB_POOL_TIMEOUT_MS). However many
   * calls run at once, together they hold at most the pool minus DEBUG_DB_TEST_RESERVE
   * connections, so the route an admin uses to exercise the pool can never starve the API; a test
   * past that waits for a slot as long as it would for a connection, then reports a timeout.
   */
  async dbTest(numTests: number, delaySeconds: number): Promise<DbTestDto> {
    const limitS = (this.config.pool.statementTimeoutMs - STATEMENT_MARGIN_MS) / 1000;
    if (delaySeconds > limitS) {
      throw new BadRequestException(`delay: must be at most ${limitS} s, under the statement timeout (DB_STATEMENT_TIMEOUT_MS)`);
    }
    const before = this.pool.snapshot();
    let peak = before;
    const sample = () => {
      const now = this.pool.snapshot();
      if (now.checked_out > peak.checked_out || (now.checked_out === peak.checked_out && now.waiting > peak.waiting)) peak = now;
    };
    const sampler = setInterval(sample, 5);
    const started = performance.now();
    let results: DbTestResultDto[];
    try {
      results = await Promise.all(Array.from({ length: numTests }, (_, i) => this.hold(i + 1, delaySeconds, sample)));
    } finally {
      clearInterval(sampler);
    }
    const after = this.pool.snapshot();
    return {
      num_tests: numTests,
      delay: delaySeconds,
      elapsed_ms: round(performance.now() - started),
      summary: {
        succeeded: results.filter((r) => r.ok).length,
        failed: results.filter((r) => !r.ok).length,
        timed_out: results.filter((r) => r.timed_out).length,
        pool_timeout_ms: this.config.pool.timeoutMs,
        max_held: this.slots.size,
      },
      pool: { before: toPoolSnapshotDto(before), peak: toPoolSnapshotDto(peak), after: toPoolSnapshotDto(after) },
      results,
    };
  }

  cacheStats(): CacheReportDto {
    const caches = this.cache.stats().map(toCacheStatsDto);
    return {
      enabled: this.cache.enabled,
      redis: { configured: this.redis.enabled, ready: this.redis.ready, errors: this.redis.errors },
      l1: { bytes: caches.reduce((n, c) => n + c.bytes, 0), max_bytes: this.config.cache.l1MaxBytes, entry_max_bytes: this.config.cache.entryMaxBytes },
      tag_versions: toTagVersionStatsDto(this.cache.tagVersionStats()),
      caches,
      rate_limit: { local_keys: this.rateLimits.size, redis_fallbacks: this.rateLimits.fallbacks },
    };
  }

  async flushCaches(): Promise<CacheReportDto> {
    await this.cache.flush();
    return this.cacheStats();
  }

  effectiveConfig(): EffectiveConfigDto {
    return toEffectiveConfigDto(this.config.redacted());
  }

  private async hold(test: number, delaySeconds: number, sample: () => void): Promise<DbTestResultDto> {
    const started = performance.now();
    if (!(await this.slots.take(this.config.pool.timeoutMs))) {
      return {
        test,
        ok: false,
        acquire_wait_ms: round(performance.now() - started),
        duration_ms: round(performance.now() - started),
        error: `no db-test slot within ${this.config.pool.timeoutMs} ms: db-test holds at most ${this.slots.size} connections (DEBUG_DB_TEST_RESERVE keeps ${this.config.debugDbTestReserve} for the API)`,
        timed_out: true,
      };
    }
    const runner = this.db.createQueryRunner();
    let acquired: number | undefined;
    try {
      await runner.connect();
      acquired = performance.now();
      sample();
      await runner.query('SELECT pg_sleep($1)', [delaySeconds]);
      return { test, ok: true, acquire_wait_ms: round(acquired - started), duration_ms: round(performance.now() - started) };
    } catch (err) {
      const answer = classifyDbError(err);
      return {
        test,
        ok: false,
        acquire_wait_ms: round((acquired ?? performance.now()) - started),
        duration_ms: round(performance.now() - started),
        error: answer?.message ?? 'failed',
        timed_out: err instanceof PoolTimeoutError,
      };
    } finally {
      await runner.release();
      this.slots.give();
    }
  }
}

/** A counting semaphore with a deadline per wait. */
class Slots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Resolves true once a slot is taken, false if none frees up within `timeoutMs`. */
  take(timeoutMs: number): Promise<boolean> {
    if (this.held < this.size) {
      this.held++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.held++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(wake), 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(wake);
    });
  }

  give(): void {
    this.held--;
    this.waiting.shift()?.();
  }
}
