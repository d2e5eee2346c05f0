import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class OperationParam {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'GET /api/projects/:id' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  operation: string;
}

/** Milliseconds; count, total, min and max since the last reset, percentiles over recent samples. */
export class TimingStatsDto {
  @ApiProperty({ type: 'integer' })
  count: number;

  @ApiProperty()
  total: number;

  @ApiProperty()
  min: number;

  @ApiProperty()
  max: number;

  @ApiProperty()
  avg: number;

  @ApiProperty()
  p50: number;

  @ApiProperty()
  p95: number;

  @ApiProperty()
  p99: number;
}

export class OperationTimingDto extends TimingStatsDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'GET /api/projects/:id' })
  operation: string;
}

export class CacheStatsDto {
  @ApiProperty({ example: 'http', description: 'http, tokens or ownership' })
  cache: string;

  @ApiProperty({ type: 'integer' })
  hits: number;

  @ApiProperty({ type: 'integer' })
  misses: number;

  @ApiProperty({ type: 'integer' })
  loads: number;

  @ApiProperty({ type: 'integer' })
  evictions: number;

  @ApiProperty({ type: 'integer' })
  errors: number;

  @ApiProperty({ type: 'integer', description: 'entries in memory (L1)' })
  size: number;

  @ApiProperty({ type: 'integer', description: 'estimated bytes held in memory (L1)' })
  bytes: number;

  @ApiProperty({ type: 'integer' })
  max_bytes: number;

  @ApiProperty({ type: 'integer', description: 'loaded values not cached because they exceed the per-entry cap' })
  oversize_skipped: number;

  @ApiProperty({ minimum: 0, maximum: 1 })
  hit_ratio: number;

  @ApiProperty({ type: 'integer', description: 'expired entries served because the database was unavailable' })
  stale_served: number;
}

export class PerformanceCacheDto {
  @ApiProperty({ type: 'integer', description: 'all caches together' })
  hits: number;

  @ApiProperty({ type: 'integer' })
  misses: number;

  @ApiProperty({ minimum: 0, maximum: 1 })
  hit_ratio: number;

  @ApiProperty({ type: [CacheStatsDto] })
  caches: CacheStatsDto[];
}

/** A connection pool as SQLAlchemy's QueuePool describes itself. */
export class PoolSnapshotDto {
  @ApiProperty({ example: 'primary' })
  pool: string;

  @ApiProperty({ type: 'integer' })
  pool_size: number;

  @ApiProperty({ type: 'integer' })
  max_overflow: number;

  @ApiProperty({ type: 'integer', description: 'pool_size + max_overflow' })
  max: number;

  @ApiProperty({ type: 'integer', description: 'idle connections' })
  checked_in: number;

  @ApiProperty({ type: 'integer' })
  checked_out: number;

  @ApiProperty({ type: 'integer', description: 'open connections - pool_size: negative until pool_size are open' })
  overflow: number;

  @ApiProperty({ type: 'integer', description: 'callers waiting for a connection' })
  waiting: number;

  @ApiProperty({ type: 'integer', description: 'open connections' })
  total: number;

  @ApiProperty({ type: 'integer', description: 'acquisitions that timed out' })
  timeouts: number;
}

export class PerformancePoolDto extends PoolSnapshotDto {
  @ApiProperty({ type: 'integer' })
  acquisitions: number;

  @ApiProperty()
  acquire_wait_ms_avg: number;

  @ApiProperty()
  acquire_wait_ms_max: number;
}

@ApiExtraModels(TimingStatsDto)
export class PerformanceMetricsDto {
  @ApiProperty({ format: 'date-time' })
  timestamp: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(TimingStatsDto) },
    description: 'by route template ("GET /api/projects/:id") and named operation ("projects.list")',
  })
  performance_metrics: Record<string, TimingStatsDto>;

  @ApiProperty({ type: PerformanceCacheDto })
  cache: PerformanceCacheDto;

  @ApiProperty({ type: PerformancePoolDto, description: 'the primary pool' })
  pool: PerformancePoolDto;
}
