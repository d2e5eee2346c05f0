import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../access/auth.decorators';
import { CacheService } from '../cache/cache.service';
import { PoolObserver } from '../database/pool-observer';
import { ApiErrors } from '../http/api-errors.decorator';
import { MetricsService } from './metrics.service';
import { OperationParam, OperationTimingDto, PerformanceMetricsDto } from './performance.dto';
import { toCacheStatsDto, toPoolSnapshotDto, toTimingStatsDto } from './performance.mapper';

/**
 * A PerformanceMonitor view for admins: timings in ms by route template and named operation. In a
 * cluster the timings are the whole group's (MetricsService.timings); cache and pool figures are
 * those of the worker that answers (the group's are on /metrics); reset clears every worker's.
 */
@ApiTags('performance')
@AdminOnly()
@Controller('api/performance')
export class PerformanceController {
  constructor(
    private readonly cache: CacheService,
    private readonly pool: PoolObserver,
    private readonly metricsService: MetricsService,
  ) {}

  @Get('metrics')
  @ApiOperation({ operationId: 'getPerformanceMetrics', summary: 'Timings (ms) of every operation, cache and pool figures' })
  @ApiOkResponse({ type: PerformanceMetricsDto })
  @ApiErrors()
  async metrics(): Promise<PerformanceMetricsDto> {
    const caches = this.cache.stats().map(toCacheStatsDto);
    const hits = caches.reduce((n, c) => n + c.hits, 0);
    const misses = caches.reduce((n, c) => n + c.misses, 0);
    const acquire = this.pool.acquireStats();
    const timings = Object.entries(await this.metricsService.timings());
    return {
      timestamp: new Date().toISOString(),
      performance_metrics: Object.fromEntries(timings.map(([operation, stats]) => [operation, toTimingStatsDto(stats)])),
      cache: {
        hits,
        misses,
        hit_ratio: hits + misses === 0 ? 0 : Math.round((hits / (hits + misses)) * 10_000) / 10_000,
        caches,
      },
      pool: {
        ...toPoolSnapshotDto(this.pool.snapshot()),
        acquisitions: acquire.count,
        acquire_wait_ms_avg: acquire.count === 0 ? 0 : Math.round((acquire.waitMsTotal / acquire.count) * 1000) / 1000,
        acquire_wait_ms_max: Math.round(acquire.waitMsMax * 1000) / 1000,
      },
    };
  }

  @Get('timing/:operation')
  @ApiOperation({
    operationId: 'getOperationTiming',
    summary: 'One operation’s timings (ms); URL-encode it: GET%20%2Fapi%2Fprojects%2F%3Aid',
  })
  @ApiOkResponse({ type: OperationTimingDto })
  @ApiErrors([404, 'No timings recorded for this operation'])
  async timing(@Param() { operation }: OperationParam): Promise<OperationTimingDto> {
    const stats = (await this.metricsService.timings())[operation];
    if (stats === undefined) throw new NotFoundException(`No timings recorded for operation ${JSON.stringify(operation)}`);
    return { operation, ...toTimingStatsDto(stats) };
  }

  @Post('reset')
  @HttpCode(204)
  @ApiOperation({ operationId: 'resetPerformanceMetrics', summary: 'Clear the timings (Prometheus counters are not reset)' })
  @ApiNoContentResponse({ description: 'Timings cleared' })
  @ApiErrors()
  reset(): Promise<void> {
    return this.metricsService.resetTimings();
  }
}
