import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.decorators';
import { ApiErrors } from '../http/api-errors.decorator';
import { DbTestQuery } from './debug.dto';
import { DebugService } from './debug.service';

@ApiTags('debug')
@AdminOnly()
@Controller('debug')
export class DebugController {
  constructor(private readonly debug: DebugService) {}

  @Get('pool-status')
  @ApiOperation({ operationId: 'getPoolStatus', summary: 'The pool as SQLAlchemy QueuePool reports it, with status() line' })
  @ApiErrors(401, 403)
  poolStatus() {
    return this.debug.poolStatus();
  }

  @Get('db-test')
  @ApiOperation({ operationId: 'runDbTest', summary: 'Hold num_tests pooled connections for delay seconds each, concurrently' })
  @ApiErrors(400, 401, 403)
  dbTest(@Query() query: DbTestQuery) {
    return this.debug.dbTest(query.num_tests, query.delay);
  }

  @Get('cache')
  @ApiOperation({ operationId: 'getCacheStats', summary: 'Statistics per cache, and Redis state' })
  @ApiErrors(401, 403)
  cache() {
    return this.debug.cacheStats();
  }

  @Post('cache/flush')
  @HttpCode(200)
  @ApiOperation({ operationId: 'flushCaches', summary: 'Empty every cache (this instance and Redis)' })
  @ApiErrors(401, 403)
  flushCache() {
    return this.debug.flushCaches();
  }

  @Get('config')
  @ApiOperation({ operationId: 'getEffectiveConfig', summary: 'The effective configuration, secrets redacted' })
  @ApiErrors(401, 403)
  config() {
    return this.debug.effectiveConfig();
  }
}
