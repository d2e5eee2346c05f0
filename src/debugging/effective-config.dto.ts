import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LOG_LEVELS, type LogLevel, NODE_ENVS, type NodeEnv, REDIS_FAILURE_MODES, type RedisFailureMode } from '../config/app-config';

const MASKED = 'a secret: "***" when set';

export class EmbeddedPgConfigDto {
  @ApiProperty()
  dir: string;

  @ApiProperty({ type: 'integer' })
  port: number;
}

export class PoolConfigDto {
  @ApiProperty({ type: 'integer' })
  size: number;

  @ApiProperty({ type: 'integer' })
  maxOverflow: number;

  @ApiProperty({ type: 'integer' })
  timeoutMs: number;

  @ApiProperty({ type: 'integer' })
  recycleS: number;

  @ApiProperty({ type: 'integer' })
  idleTimeoutMs: number;

  @ApiProperty({ type: 'integer' })
  statementTimeoutMs: number;

  @ApiProperty()
  prePing: boolean;

  @ApiProperty({ type: 'integer' })
  prePingIdleMs: number;
}

export class TimeoutsConfigDto {
  @ApiProperty({ type: 'integer' })
  requestMs: number;

  @ApiProperty({ type: 'integer' })
  headersMs: number;

  @ApiProperty({ type: 'integer' })
  keepAliveMs: number;
}

export class AdminConfigDto {
  @ApiProperty()
  email: string;

  @ApiPropertyOptional({ description: MASKED })
  password?: string;
}

export class ActivityBatchConfigDto {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ type: 'integer' })
  maxRows: number;

  @ApiProperty({ type: 'integer' })
  waitMs: number;
}

export class RateLimitConfigDto {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ type: 'integer' })
  perSecond: number;

  @ApiProperty({ type: 'integer' })
  perMinute: number;

  @ApiProperty({ type: 'integer' })
  anonPerMinute: number;

  @ApiProperty({ type: 'integer' })
  loginPerMinute: number;

  @ApiProperty({ type: 'integer' })
  loginAccountPerMinute: number;

  @ApiProperty({ enum: REDIS_FAILURE_MODES })
  redisFailure: RedisFailureMode;
}

export class CacheConfigDto {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ type: 'integer' })
  ttlMs: number;

  @ApiProperty({ type: 'integer' })
  staleMs: number;

  @ApiProperty({ type: 'integer' })
  l1MaxEntries: number;

  @ApiProperty({ type: 'integer' })
  l1MaxBytes: number;

  @ApiProperty({ type: 'integer' })
  entryMaxBytes: number;

  @ApiProperty({ type: 'integer' })
  tagVersionsMax: number;

  @ApiProperty()
  namespace: string;
}

/** AppConfig as the process runs with it, secrets masked; the names are AppConfig's, not the variables'. */
export class EffectiveConfigDto {
  @ApiProperty({ enum: NODE_ENVS })
  nodeEnv: NodeEnv;

  @ApiProperty({ type: 'integer' })
  port: number;

  @ApiProperty()
  host: string;

  @ApiProperty({ type: 'integer' })
  listenBacklog: number;

  @ApiPropertyOptional({ description: 'password masked; the embedded database’s URL when DATABASE_URL is unset' })
  databaseUrl?: string;

  @ApiProperty({ type: [String], description: 'passwords masked; empty without replicas (pools replica-0, replica-1, ... in this order)' })
  databaseReplicaUrls: string[];

  @ApiProperty({ description: 'false: statements are sent unnamed (PgBouncer in transaction mode before 1.21)' })
  dbPreparedStatements: boolean;

  @ApiProperty({
    type: 'integer',
    description: 'with replicas: a cached answer loaded within this many ms after a write it depends on is kept only until this long after the write',
  })
  dbReplicaMaxLagMs: number;

  @ApiProperty({ type: EmbeddedPgConfigDto })
  embeddedPg: EmbeddedPgConfigDto;

  @ApiProperty({ type: PoolConfigDto })
  pool: PoolConfigDto;

  @ApiProperty()
  migrationsRun: boolean;

  @ApiProperty({ type: 'integer' })
  dbConnectRetries: number;

  @ApiProperty({ type: 'integer' })
  dbSlowQueryMs: number;

  @ApiProperty({ enum: LOG_LEVELS })
  logLevel: LogLevel;

  @ApiProperty({
    oneOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string' } }],
    description: 'true, false, or the trusted proxy addresses / CIDRs',
  })
  trustProxy: boolean | string[];

  @ApiPropertyOptional({ description: 'password masked; absent without Redis' })
  redisUrl?: string;

  @ApiProperty({ type: 'integer' })
  shutdownTimeoutMs: number;

  @ApiProperty({ type: 'integer' })
  shutdownGraceMs: number;

  @ApiProperty({ type: 'integer' })
  shutdownDrainMs: number;

  @ApiProperty({ type: 'integer' })
  bodyLimitBytes: number;

  @ApiProperty({ type: 'integer' })
  jsonMaxDepth: number;

  @ApiProperty({ type: TimeoutsConfigDto })
  timeouts: TimeoutsConfigDto;

  @ApiProperty({ type: [String] })
  corsOrigins: string[];

  @ApiProperty({ type: AdminConfigDto })
  admin: AdminConfigDto;

  @ApiProperty({ type: 'integer' })
  tokenCacheTtlMs: number;

  @ApiProperty({ description: 'always "***"' })
  cursorSecret: string;

  @ApiProperty({ description: 'CURSOR_SECRET is unset: cursors do not survive a restart' })
  cursorSecretGenerated: boolean;

  @ApiProperty({ type: 'integer' })
  fileMaxBytes: number;

  @ApiProperty({ type: ActivityBatchConfigDto })
  activityBatch: ActivityBatchConfigDto;

  @ApiProperty({ type: RateLimitConfigDto })
  rateLimit: RateLimitConfigDto;

  @ApiProperty({ type: CacheConfigDto })
  cache: CacheConfigDto;

  @ApiPropertyOptional({ description: MASKED })
  metricsToken?: string;

  @ApiProperty()
  debugRoutesEnabled: boolean;

  @ApiProperty({ type: 'integer' })
  debugDbTestReserve: number;

  @ApiProperty({ type: 'integer', description: 'pool.size + pool.maxOverflow' })
  poolMax: number;
}
