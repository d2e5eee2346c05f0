import type { TagVersionStats } from '../cache/cache.service';
import { queuePoolStatus, type PoolSnapshot } from '../database/pool-observer';
import { toPoolSnapshotDto } from '../monitoring/performance.mapper';
import type { DescribedPoolDto, TagVersionStatsDto } from './debug.dto';

export function toDescribedPoolDto(s: PoolSnapshot): DescribedPoolDto {
  return { ...toPoolSnapshotDto(s), status: queuePoolStatus(s) };
}

export function toTagVersionStatsDto(s: TagVersionStats): TagVersionStatsDto {
  return {
    shared: s.shared,
    tags: s.tags,
    max_tags: s.max_tags,
    pending_bumps: s.pending_bumps,
    failed_bumps: s.failed_bumps,
    subscription_live: s.subscription_live,
  };
}
