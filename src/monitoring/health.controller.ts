import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../access/auth.decorators';
import type { AuthenticatedRequest } from '../access/auth.decorators';
import { DatabaseHealth } from '../database/database.health';
import { PoolObserver } from '../database/pool-observer';
import { Unthrottled } from '../http/rate-limit/rate-limit-step';
import { ShutdownState } from '../http/shutdown-state';
import { HealthDto, HealthUnavailableDto } from './health.dto';

// Terminus's own schemas do not match what the error filter answers on a 503: ours are in health.dto.ts.
const NO_CACHE_UNDOCUMENTED = { noCache: true, swaggerDocumentation: false };

@Public({ identifies: true })
@Unthrottled()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseHealth,
    private readonly pool: PoolObserver,
    private readonly shutdown: ShutdownState,
  ) {}

  /** The process is up and its event loop turns. */
  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process is up and its event loop turns' })
  @ApiOkResponse({ type: HealthDto })
  @HealthCheck(NO_CACHE_UNDOCUMENTED)
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Ready for traffic: not shutting down and the database answers. Pool saturation and replicas that
   * are down are reported, not failed on. The details (ping time, pool figures, the database's error
   * text) are for admins: an anonymous caller learns up or down, not how the database is reached.
   */
  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness: not shutting down and the database answers (details for admins)' })
  @ApiOkResponse({ type: HealthDto })
  @ApiResponse({ status: 503, type: HealthUnavailableDto, description: 'Not ready: booting, shutting down, or the database does not answer' })
  @HealthCheck(NO_CACHE_UNDOCUMENTED)
  ready(@Req() request: AuthenticatedRequest): Promise<HealthCheckResult> {
    const admin = request.user?.role === 'admin';
    return this.health.check([
      () => {
        const session = this.indicators.check('lifecycle');
        return this.shutdown.shuttingDown ? session.down({ state: 'shutting down' }) : session.up({ state: 'serving' });
      },
      async () => {
        const session = this.indicators.check('database');
        const ping = await this.database.ping();
        const pool = this.pool.snapshot();
        const saturation = { checked_out: pool.checked_out, max: pool.max, waiting: pool.waiting };
        if (!admin) return ping.ok ? session.up() : session.down();
        return ping.ok ? session.up({ ping_ms: ping.ms, pool: saturation }) : session.down({ error: ping.error, pool: saturation });
      },
      ...(this.database.hasReplicas ? [() => this.replicas(admin)] : []),
    ]);
  }

  /**
   * Each replica as up or down, inside an indicator that is itself always up: a replica that is down
   * costs only its reads, which go to the primary (PreparedSql.readLagTolerant), so the instance
   * stays ready.
   */
  private async replicas(admin: boolean): Promise<HealthIndicatorResult> {
    const replicas: Record<string, unknown> = {};
    for (const { name, ping } of await this.database.pingReplicas()) {
      const status = ping.ok ? 'up' : 'down';
      if (!admin) {
        replicas[name] = { status };
        continue;
      }
      const pool = this.pool.snapshot(name);
      const saturation = { checked_out: pool.checked_out, max: pool.max, waiting: pool.waiting };
      replicas[name] = ping.ok ? { status, ping_ms: ping.ms, pool: saturation } : { status, error: ping.error, pool: saturation };
    }
    return this.indicators.check('replicas').up(replicas);
  }
}
