import type { CacheStatsSnapshot } from '../cache/tiered-cache';
import type { PoolSnapshot } from '../database/pool-snapshot';
import type { TimingStats } from './performance-monitor';
import type { CacheStatsDto, PoolSnapshotDto, TimingStatsDto } from './performance.dto';

export function toTimingStatsDto(s: TimingStats): TimingStatsDto {
  return { count: s.count, total: s.total, min: s.min, max: s.max, avg: s.avg, p50: s.p50, p95: s.p95, p99: s.p99 };
}

export function toCacheStatsDto(s: CacheStatsSnapshot): CacheStatsDto {
  return {
    cache: s.cache,
    hits: s.hits,
    misses: s.misses,
    loads: s.loads,
    evictions: s.evictions,
    errors: s.errors,
    size: s.size,
    bytes: s.bytes,
    max_bytes: s.max_bytes,
    oversize_skipped: s.oversize_skipped,
    hit_ratio: s.hit_ratio,
    stale_served: s.stale_served,
  };
}

export function toPoolSnapshotDto(s: PoolSnapshot): PoolSnapshotDto {
  return {
    pool: s.pool,
    pool_size: s.pool_size,
    max_overflow: s.max_overflow,
    max: s.max,
    checked_in: s.checked_in,
    checked_out: s.checked_out,
    overflow: s.overflow,
    waiting: s.waiting,
    total: s.total,
    timeouts: s.timeouts,
  };
}
