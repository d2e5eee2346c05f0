import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../access/auth.decorators';
import { ApiErrors } from '../http/api-errors.decorator';
import { CacheReportDto, DbTestDto, DbTestQuery, PoolStatusDto } from './debug.dto';
import { DebugService } from './debug.service';
import { EffectiveConfigDto } from './effective-config.dto';

// With DEBUG_ROUTES_ENABLED=false these routes are not registered at all.
const ROUTES_OFF: [number, string] = [404, 'The debug routes are off (DEBUG_ROUTES_ENABLED=false)'];

@ApiTags('debug')
@AdminOnly()
@Controller('debug')
export class DebugController {
  constructor(private readonly debug: DebugService) {}

  @Get('pool-status')
  @ApiOperation({ operationId: 'getPoolStatus', summary: 'The primary pool (and replicas) as SQLAlchemy QueuePool reports it, with its status() line' })
  @ApiOkResponse({ type: PoolStatusDto })
  @ApiErrors(ROUTES_OFF)
  poolStatus(): PoolStatusDto {
    return this.debug.poolStatus();
  }

  @Get('db-test')
  @ApiOperation({
    operationId: 'runDbTest',
    summary: 'Hold num_tests pooled connections for delay seconds each, concurrently, and report what the pool did',
  })
  @ApiOkResponse({ type: DbTestDto })
  @ApiErrors(ROUTES_OFF)
  dbTest(@Query() query: DbTestQuery): Promise<DbTestDto> {
    return this.debug.dbTest(query.num_tests, query.delay);
  }

  @Get('cache')
  @ApiOperation({ operationId: 'getCacheStats', summary: 'Statistics per cache, memory budget, tag versions, Redis and rate-limit storage state' })
  @ApiOkResponse({ type: CacheReportDto })
  @ApiErrors(ROUTES_OFF)
  cache(): CacheReportDto {
    return this.debug.cacheStats();
  }

  @Post('cache/flush')
  @HttpCode(200)
  @ApiOperation({ operationId: 'flushCaches', summary: 'Empty every cache (this instance and Redis); answers the statistics after the flush' })
  @ApiOkResponse({ type: CacheReportDto })
  @ApiErrors(ROUTES_OFF)
  flushCache(): Promise<CacheReportDto> {
    return this.debug.flushCaches();
  }

  @Get('config')
  @ApiOperation({ operationId: 'getEffectiveConfig', summary: 'The effective configuration, secrets redacted' })
  @ApiOkResponse({ type: EffectiveConfigDto })
  @ApiErrors(ROUTES_OFF)
  config(): EffectiveConfigDto {
    return this.debug.effectiveConfig();
  }
}
