import type { TagVersionStats } from '../cache/cache.service';
import type { RedactedConfig } from '../config/app-config';
import { queuePoolStatus, type PoolSnapshot } from '../database/pool-snapshot';
import { toPoolSnapshotDto } from '../monitoring/performance.mapper';
import type { DescribedPoolDto, TagVersionStatsDto } from './debug.dto';
import type { EffectiveConfigDto } from './effective-config.dto';

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

/** Field by field: a value added to AppConfig shows here only once EffectiveConfigDto documents it. */
export function toEffectiveConfigDto(c: RedactedConfig): EffectiveConfigDto {
  return {
    nodeEnv: c.nodeEnv,
    port: c.port,
    host: c.host,
    listenBacklog: c.listenBacklog,
    databaseUrl: c.databaseUrl,
    databaseReplicaUrls: c.databaseReplicaUrls,
    dbPreparedStatements: c.dbPreparedStatements,
    dbReplicaMaxLagMs: c.dbReplicaMaxLagMs,
    embeddedPg: { dir: c.embeddedPg.dir, port: c.embeddedPg.port },
    pool: {
      size: c.pool.size,
      maxOverflow: c.pool.maxOverflow,
      timeoutMs: c.pool.timeoutMs,
      recycleS: c.pool.recycleS,
      idleTimeoutMs: c.pool.idleTimeoutMs,
      statementTimeoutMs: c.pool.statementTimeoutMs,
      prePing: c.pool.prePing,
      prePingIdleMs: c.pool.prePingIdleMs,
    },
    migrationsRun: c.migrationsRun,
    dbConnectRetries: c.dbConnectRetries,
    dbSlowQueryMs: c.dbSlowQueryMs,
    logLevel: c.logLevel,
    trustProxy: c.trustProxy,
    redisUrl: c.redisUrl,
    shutdownTimeoutMs: c.shutdownTimeoutMs,
    shutdownGraceMs: c.shutdownGraceMs,
    shutdownDrainMs: c.shutdownDrainMs,
    bodyLimitBytes: c.bodyLimitBytes,
    jsonMaxDepth: c.jsonMaxDepth,
    timeouts: { requestMs: c.timeouts.requestMs, headersMs: c.timeouts.headersMs, keepAliveMs: c.timeouts.keepAliveMs },
    corsOrigins: c.corsOrigins,
    admin: { email: c.admin.email, password: c.admin.password },
    tokenCacheTtlMs: c.tokenCacheTtlMs,
    cursorSecret: c.cursorSecret,
    cursorSecretGenerated: c.cursorSecretGenerated,
    fileMaxBytes: c.fileMaxBytes,
    activityBatch: { enabled: c.activityBatch.enabled, maxRows: c.activityBatch.maxRows, waitMs: c.activityBatch.waitMs },
    rateLimit: {
      enabled: c.rateLimit.enabled,
      perSecond: c.rateLimit.perSecond,
      perMinute: c.rateLimit.perMinute,
      anonPerMinute: c.rateLimit.anonPerMinute,
      loginPerMinute: c.rateLimit.loginPerMinute,
      loginAccountPerMinute: c.rateLimit.loginAccountPerMinute,
      redisFailure: c.rateLimit.redisFailure,
    },
    cache: {
      enabled: c.cache.enabled,
      ttlMs: c.cache.ttlMs,
      staleMs: c.cache.staleMs,
      l1MaxEntries: c.cache.l1MaxEntries,
      l1MaxBytes: c.cache.l1MaxBytes,
      entryMaxBytes: c.cache.entryMaxBytes,
      tagVersionsMax: c.cache.tagVersionsMax,
      namespace: c.cache.namespace,
    },
    metricsToken: c.metricsToken,
    debugRoutesEnabled: c.debugRoutesEnabled,
    debugDbTestReserve: c.debugDbTestReserve,
    poolMax: c.poolMax,
  };
}
