import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.decorators';
import { ApiErrors } from '../http/api-errors.decorator';
import { CacheReportDto, DbTestDto, DbTestQuery, PoolStatusDto } from './debug.dto';
import { DebugService } from './debug.service';
import { EffectiveConfigDto } from './effective-config.dto';

@ApiTags('debug (admin)')
@ApiBearerAuth()
@AdminOnly()
@Controller('debug')
export class DebugController {
  constructor(private readonly debug: DebugService) {}

  @Get('pool-status')
  @ApiOperation({ operationId: 'getPoolStatus', summary: 'The primary pool (and replicas) as SQLAlchemy QueuePool reports it, with its status() line' })
  @ApiOkResponse({ type: PoolStatusDto })
  @ApiErrors(401, 403)
  poolStatus(): PoolStatusDto {
    return this.debug.poolStatus();
  }

  @Get('db-test')
  @ApiOperation({
    operationId: 'runDbTest',
    summary: 'Hold num_tests pooled connections for delay seconds each, concurrently, and report what the pool did',
  })
  @ApiOkResponse({ type: DbTestDto })
  @ApiErrors(400, 401, 403)
  dbTest(@Query() query: DbTestQuery): Promise<DbTestDto> {
    return this.debug.dbTest(query.num_tests, query.delay);
  }

  @Get('cache')
  @ApiOperation({ operationId: 'getCacheStats', summary: 'Statistics per cache, memory budget, tag versions, Redis and rate-limit storage state' })
  @ApiOkResponse({ type: CacheReportDto })
  @ApiErrors(401, 403)
  cache(): CacheReportDto {
    return this.debug.cacheStats();
  }

  @Post('cache/flush')
  @HttpCode(200)
  @ApiOperation({ operationId: 'flushCaches', summary: 'Empty every cache (this instance and Redis); answers the statistics after the flush' })
  @ApiOkResponse({ type: CacheReportDto })
  @ApiErrors(401, 403)
  flushCache(): Promise<CacheReportDto> {
    return this.debug.flushCaches();
  }

  @Get('config')
  @ApiOperation({ operationId: 'getEffectiveConfig', summary: 'The effective configuration, secrets redacted' })
  @ApiOkResponse({ type: EffectiveConfigDto })
  @ApiErrors(401, 403)
  config(): EffectiveConfigDto {
    return this.debug.effectiveConfig();
  }
}
