import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { ToDecimal, ToInteger } from '../http/transforms';
import { CacheStatsDto, PoolSnapshotDto } from '../monitoring/performance.dto';

export const MAX_TESTS = 100;
export const MAX_DELAY_S = 30;

export class DbTestQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TESTS, default: 10, description: 'concurrent queries' })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_TESTS)
  num_tests: number = 10;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_DELAY_S, default: 1, description: 'seconds each query holds its connection' })
  @IsOptional()
  @ToDecimal()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 3 })
  @Min(0)
  @Max(MAX_DELAY_S)
  delay: number = 1;
}

export class DescribedPoolDto extends PoolSnapshotDto {
  @ApiProperty({
    description: "SQLAlchemy's QueuePool.status() line, spacing included",
    example: 'Pool size: 10  Connections in pool: 1 Current Overflow: -9 Current Checked out connections: 0',
  })
  status: string;
}

/** The primary pool, and the replicas' pools if any. */
export class PoolStatusDto extends DescribedPoolDto {
  @ApiProperty({ type: [DescribedPoolDto] })
  replicas: DescribedPoolDto[];
}

export class DbTestSummaryDto {
  @ApiProperty({ type: 'integer' })
  succeeded: number;

  @ApiProperty({ type: 'integer' })
  failed: number;

  @ApiProperty({ type: 'integer' })
  timed_out: number;

  @ApiProperty({ type: 'integer', description: 'DB_POOL_TIMEOUT_MS' })
  pool_timeout_ms: number;

  @ApiProperty({ type: 'integer', description: 'connections all db-test calls together may hold: the pool minus DEBUG_DB_TEST_RESERVE' })
  max_held: number;
}

export class DbTestPoolDto {
  @ApiProperty({ type: PoolSnapshotDto })
  before: PoolSnapshotDto;

  @ApiProperty({ type: PoolSnapshotDto, description: 'the snapshot with the most connections checked out (ties: the most waiting) while the tests ran' })
  peak: PoolSnapshotDto;

  @ApiProperty({ type: PoolSnapshotDto })
  after: PoolSnapshotDto;
}

export class DbTestResultDto {
  @ApiProperty({ type: 'integer', minimum: 1 })
  test: number;

  @ApiProperty()
  ok: boolean;

  @ApiProperty()
  acquire_wait_ms: number;

  @ApiProperty()
  duration_ms: number;

  @ApiPropertyOptional({ description: 'only when ok is false' })
  error?: string;

  @ApiPropertyOptional({ description: 'only when ok is false: true if no connection (or db-test slot) came in time' })
  timed_out?: boolean;
}

export class DbTestDto {
  @ApiProperty({ type: 'integer' })
  num_tests: number;

  @ApiProperty({ description: 'seconds' })
  delay: number;

  @ApiProperty()
  elapsed_ms: number;

  @ApiProperty({ type: DbTestSummaryDto })
  summary: DbTestSummaryDto;

  @ApiProperty({ type: DbTestPoolDto })
  pool: DbTestPoolDto;

  @ApiProperty({ type: [DbTestResultDto] })
  results: DbTestResultDto[];
}

export class RedisStateDto {
  @ApiProperty({ description: 'REDIS_URL is set' })
  configured: boolean;

  @ApiProperty()
  ready: boolean;

  @ApiProperty({ type: 'integer' })
  errors: number;
}

export class L1BudgetDto {
  @ApiProperty({ type: 'integer', description: 'estimated bytes held by the three in-memory caches together' })
  bytes: number;

  @ApiProperty({ type: 'integer', description: 'CACHE_L1_MAX_BYTES' })
  max_bytes: number;

  @ApiProperty({ type: 'integer', description: 'CACHE_ENTRY_MAX_BYTES' })
  entry_max_bytes: number;
}

export class TagVersionStatsDto {
  @ApiProperty({ description: 'versions shared through Redis' })
  shared: boolean;

  @ApiProperty({ type: 'integer' })
  tags: number;

  @ApiProperty({ type: 'integer', description: 'CACHE_TAG_VERSIONS_MAX' })
  max_tags: number;

  @ApiProperty({ type: 'integer', description: 'bumps Redis has not acknowledged yet' })
  pending_bumps: number;

  @ApiProperty({ type: 'integer', description: 'of the pending bumps, those waiting for a retry' })
  failed_bumps: number;

  @ApiProperty()
  subscription_live: boolean;
}

export class RateLimitStorageDto {
  @ApiProperty({ type: 'integer', description: 'rate-limit keys counted in this instance' })
  local_keys: number;

  @ApiProperty({ type: 'integer', description: 'counts made locally because Redis failed' })
  redis_fallbacks: number;
}

export class CacheReportDto {
  @ApiProperty({ description: 'CACHE_ENABLED' })
  enabled: boolean;

  @ApiProperty({ type: RedisStateDto })
  redis: RedisStateDto;

  @ApiProperty({ type: L1BudgetDto })
  l1: L1BudgetDto;

  @ApiProperty({ type: TagVersionStatsDto })
  tag_versions: TagVersionStatsDto;

  @ApiProperty({ type: [CacheStatsDto] })
  caches: CacheStatsDto[];

  @ApiProperty({ type: RateLimitStorageDto })
  rate_limit: RateLimitStorageDto;
}
