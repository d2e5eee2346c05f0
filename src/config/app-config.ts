import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { Env, EnvReader, redactUrl } from './env-schema';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const REDIS_FAILURE_MODES = ['local', 'open'] as const;
export type RedisFailureMode = (typeof REDIS_FAILURE_MODES)[number];

export interface PoolConfig {
  /** Connections kept open (SQLAlchemy `pool_size`). */
  readonly size: number;
  /** Extra connections allowed under load, closed when idle (SQLAlchemy `max_overflow`). */
  readonly maxOverflow: number;
  /** Longest wait for a connection before the caller gets 503 (SQLAlchemy `pool_timeout`). */
  readonly timeoutMs: number;
  /** Connections older than this are replaced (SQLAlchemy `pool_recycle`); 0 disables. */
  readonly recycleS: number;
  /** How long an overflow connection may stay idle before it is closed. */
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** Ping a connection before use when it has been idle this long (SQLAlchemy `pool_pre_ping`). */
  readonly prePing: boolean;
  readonly prePingIdleMs: number;
}

export interface RateLimitConfig {
  readonly enabled: boolean;
  readonly perSecond: number;
  readonly perMinute: number;
  readonly anonPerMinute: number;
  readonly loginPerMinute: number;
  /** Login attempts per account (email), whatever the client address. */
  readonly loginAccountPerMinute: number;
  /** With Redis down: count locally per instance ('local') or let requests through ('open'). */
  readonly redisFailure: RedisFailureMode;
}

export interface CacheConfig {
  readonly enabled: boolean;
  readonly ttlMs: number;
  /** How long past its TTL an entry may still be served while the database is unavailable. */
  readonly staleMs: number;
  /** Per cache (http, tokens, ownership): lru-cache preallocates a few dozen bytes per slot. */
  readonly l1MaxEntries: number;
  /** All three in-memory caches together, by the estimate in TieredCacheOptions.sizeOf. */
  readonly l1MaxBytes: number;
  /** Larger answers are served but cached nowhere, neither in L1 nor in Redis. */
  readonly entryMaxBytes: number;
  /** Tags whose versions are remembered at most (and bumps waiting for Redis at most). */
  readonly tagVersionsMax: number;
  readonly namespace: string;
}

/**
 * OpenTelemetry, read from the standard OTEL_* variables. Only whether to start the SDK is decided
 * here; the SDK reads the rest of its standard variables itself (exporter protocol, headers,
 * sampler, resource attributes), as every OpenTelemetry deployment expects.
 */
export interface TelemetryConfig {
  /** Spans are exported: an OTLP endpoint or a traces exporter is configured, and the SDK is not disabled. */
  readonly traces: boolean;
  /** Metrics are exported through the SDK (OTEL_METRICS_EXPORTER names an exporter other than none). */
  readonly metrics: boolean;
  readonly serviceName: string;
}

const MIB = 1024 * 1024;

type ConfigValues = Omit<AppConfig, 'redacted' | 'poolMax' | 'withDatabaseUrl'>;

/** The configuration as it may be shown: every value as configured, secrets masked, plus poolMax. */
export interface RedactedConfig extends ConfigValues {
  readonly poolMax: number;
}

/**
 * The one typed view of the environment. Built once at boot by `AppConfig.fromEnv`; nothing else
 * in the code base reads `process.env`.
 */
export class AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly host: string;
  /** Pending-connection queue of the listening socket (the kernel caps it at net.core.somaxconn). */
  readonly listenBacklog: number;
  /** Processes serving the port (WORKERS; `auto`: one per core). Above 1, main.ts runs a node:cluster primary. */
  readonly workers: number;
  /** Unset: an embedded PostgreSQL is started under `embeddedPg.dir`. */
  readonly databaseUrl: string | undefined;
  /** Hot standbys of the primary; the reads a repository marks lag-tolerant go to them. */
  readonly databaseReplicaUrls: string[];
  /**
   * Named prepared statements (planned once per connection). Off for PgBouncer in transaction mode
   * before 1.21, which cannot follow a statement prepared on one server connection to the next.
   */
  readonly dbPreparedStatements: boolean;
  /**
   * How far behind the primary a replica may be (with replicas only): a cached answer loaded within
   * this long after a write it depends on is kept only until this long after the write.
   */
  readonly dbReplicaMaxLagMs: number;
  readonly embeddedPg: { readonly dir: string; readonly port: number };
  readonly pool: PoolConfig;
  readonly migrationsRun: boolean;
  readonly dbConnectRetries: number;
  readonly dbSlowQueryMs: number;
  readonly logLevel: LogLevel;
  readonly trustProxy: boolean | string[];
  readonly redisUrl: string | undefined;
  readonly shutdownTimeoutMs: number;
  /** Readiness reports 503 this long before the server stops taking requests (load balancers notice). */
  readonly shutdownGraceMs: number;
  /** How long in-flight requests may take to finish on shutdown before their sockets are destroyed. */
  readonly shutdownDrainMs: number;
  readonly bodyLimitBytes: number;
  /** JSON bodies nested deeper than this are refused before they are parsed. */
  readonly jsonMaxDepth: number;
  /** Headers and body must arrive within `requestMs`, headers alone within `headersMs` (else 408). */
  readonly timeouts: { readonly requestMs: number; readonly headersMs: number; readonly keepAliveMs: number };
  readonly corsOrigins: string[];
  readonly admin: { readonly email: string; readonly password: string | undefined };
  readonly tokenCacheTtlMs: number;
  /** Signs pagination cursors; unset: a random key per process (cursors do not survive restarts). */
  readonly cursorSecret: string;
  readonly cursorSecretGenerated: boolean;
  readonly fileMaxBytes: number;
  readonly activityBatch: { readonly enabled: boolean; readonly maxRows: number; readonly waitMs: number };
  readonly rateLimit: RateLimitConfig;
  readonly cache: CacheConfig;
  readonly metricsToken: string | undefined;
  readonly debugRoutesEnabled: boolean;
  /** Pooled connections /debug/db-test leaves to the application, however many calls run at once. */
  readonly debugDbTestReserve: number;
  readonly telemetry: TelemetryConfig;

  private constructor(values: ConfigValues) {
    Object.assign(this, values);
    Object.freeze(this);
  }

  static fromEnv(env: Env, cwd = process.cwd()): AppConfig {
    const r = new EnvReader(env);
    const poolSize = r.int('DB_POOL_SIZE', 10, 1, 1000);
    const maxOverflow = r.int('DB_MAX_OVERFLOW', 10, 0, 1000);
    const statementTimeoutMs = r.int('DB_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000);
    const embeddedDir = r.string('EMBEDDED_PG_DIR', '.data/postgres');
    const trustProxyRaw = r.raw('TRUST_PROXY');
    const l1MaxBytes = r.int('CACHE_L1_MAX_BYTES', 64 * MIB, MIB, 64 * 1024 * MIB);

    const config = new AppConfig({
      nodeEnv: r.oneOf('NODE_ENV', 'development', NODE_ENVS),
      port: r.int('PORT', 3000, 0, 65535),
      host: r.string('HOST', '0.0.0.0'),
      listenBacklog: r.int('LISTEN_BACKLOG', 4096, 1, 65535),
      workers: parseWorkers(r),
      databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
      databaseReplicaUrls: r.urlList('DATABASE_REPLICA_URLS', ['postgres:', 'postgresql:']),
      dbPreparedStatements: r.bool('DB_PREPARED_STATEMENTS', true),
      dbReplicaMaxLagMs: r.int('DB_REPLICA_MAX_LAG_MS', 1000, 0, 60_000),
      embeddedPg: {
        dir: isAbsolute(embeddedDir) ? embeddedDir : resolve(cwd, embeddedDir),
        port: r.int('EMBEDDED_PG_PORT', 54329, 1, 65535),
      },
      pool: {
        size: poolSize,
        maxOverflow,
        timeoutMs: r.int('DB_POOL_TIMEOUT_MS', 30_000, 1, 600_000),
        recycleS: r.int('DB_POOL_RECYCLE_S', 1800, 0, 86_400),
        idleTimeoutMs: r.int('DB_IDLE_TIMEOUT_MS', 10_000, 100, 3_600_000),
        statementTimeoutMs,
        prePing: r.bool('DB_PRE_PING', true),
        prePingIdleMs: r.int('DB_PRE_PING_IDLE_MS', 5_000, 0, 3_600_000),
      },
      migrationsRun: r.bool('DB_MIGRATIONS_RUN', true),
      dbConnectRetries: r.int('DB_CONNECT_RETRIES', 5, 0, 100),
      dbSlowQueryMs: r.int('DB_SLOW_QUERY_MS', 100, 1, 3_600_000),
      logLevel: r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
      trustProxy: parseTrustProxy(trustProxyRaw, r),
      redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
      shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
      shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 0, 0, 300_000),
      shutdownDrainMs: r.int('SHUTDOWN_DRAIN_MS', 5_000, 0, 300_000),
      bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 7 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      jsonMaxDepth: r.int('JSON_MAX_DEPTH', 32, 2, 1_000),
      timeouts: {
        requestMs: r.int('REQUEST_TIMEOUT_MS', 30_000, 1_000, 3_600_000),
        headersMs: r.int('HEADERS_TIMEOUT_MS', 10_000, 1_000, 3_600_000),
        keepAliveMs: r.int('KEEP_ALIVE_TIMEOUT_MS', 72_000, 1_000, 3_600_000),
      },
      corsOrigins: r.list('CORS_ORIGINS', [], isOrigin, 'a comma-separated list of origins like https://app.example.com'),
      admin: {
        email: r.string('ADMIN_EMAIL', 'admin@example.com', { maxLength: 254 }),
        password: r.optionalString('ADMIN_PASSWORD'),
      },
      tokenCacheTtlMs: r.int('TOKEN_CACHE_TTL_MS', 30_000, 0, 3_600_000),
      cursorSecret: r.optionalString('CURSOR_SECRET') ?? randomBytes(32).toString('base64url'),
      cursorSecretGenerated: r.optionalString('CURSOR_SECRET') === undefined,
      fileMaxBytes: r.int('FILE_MAX_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
      activityBatch: {
        enabled: r.bool('ACTIVITY_BATCH_ENABLED', true),
        maxRows: r.int('ACTIVITY_BATCH_MAX', 500, 1, 10_000),
        waitMs: r.int('ACTIVITY_BATCH_WAIT_MS', 5, 0, 1_000),
      },
      rateLimit: {
        enabled: r.bool('RATE_LIMIT_ENABLED', true),
        perSecond: r.int('RATE_LIMIT_PER_SECOND', 20, 1, 10_000_000),
        perMinute: r.int('RATE_LIMIT_PER_MINUTE', 600, 1, 100_000_000),
        anonPerMinute: r.int('RATE_LIMIT_ANON_PER_MINUTE', 60, 1, 100_000_000),
        loginPerMinute: r.int('RATE_LIMIT_LOGIN_PER_MINUTE', 5, 1, 100_000_000),
        loginAccountPerMinute: r.int('RATE_LIMIT_LOGIN_ACCOUNT_PER_MINUTE', 10, 1, 100_000_000),
        redisFailure: r.oneOf('RATE_LIMIT_REDIS_FAILURE', 'local', REDIS_FAILURE_MODES),
      },
      cache: {
        enabled: r.bool('CACHE_ENABLED', true),
        ttlMs: r.int('CACHE_TTL_MS', 30_000, 1, 86_400_000),
        staleMs: r.int('CACHE_STALE_MS', 60_000, 0, 86_400_000),
        l1MaxEntries: r.int('CACHE_L1_MAX_ENTRIES', 10_000, 1, 1_000_000),
        l1MaxBytes,
        // 4 MiB holds a FILE_MAX_BYTES (1 MiB) text file at 2 bytes a character, while a file of
        // control characters (6x longer as JSON) is skipped; and one answer stays 1/16 of L1.
        entryMaxBytes: r.int('CACHE_ENTRY_MAX_BYTES', Math.min(4 * MIB, Math.floor(l1MaxBytes / 16)), 1024, 64 * 1024 * MIB),
        tagVersionsMax: r.int('CACHE_TAG_VERSIONS_MAX', 100_000, 1_000, 10_000_000),
        namespace: r.string('CACHE_NAMESPACE', 'app', { maxLength: 64 }),
      },
      metricsToken: r.optionalString('METRICS_TOKEN'),
      debugRoutesEnabled: r.bool('DEBUG_ROUTES_ENABLED', true),
      // A fifth of the pool, at least one connection, unless the pool has only one.
      debugDbTestReserve: r.int('DEBUG_DB_TEST_RESERVE', Math.min(Math.ceil((poolSize + maxOverflow) / 5), poolSize + maxOverflow - 1), 0, 2_000),
      telemetry: parseTelemetry(r),
    });
    r.check(
      statementTimeoutMs >= 100,
      'DB_STATEMENT_TIMEOUT_MS must be at least 100 so that health pings can complete',
    );
    const password = config.admin.password;
    r.check(password === undefined || password.length >= 8, 'ADMIN_PASSWORD must be at least 8 characters');
    r.check(
      config.shutdownGraceMs + config.shutdownDrainMs + 1_000 <= config.shutdownTimeoutMs,
      'SHUTDOWN_GRACE_MS + SHUTDOWN_DRAIN_MS must leave at least 1000 ms of SHUTDOWN_TIMEOUT_MS for the writer flush and the pool close',
    );
    r.check(
      config.debugDbTestReserve < config.pool.size + config.pool.maxOverflow,
      'DEBUG_DB_TEST_RESERVE must be below DB_POOL_SIZE + DB_MAX_OVERFLOW, or /debug/db-test could hold no connection',
    );
    r.check(
      config.timeouts.headersMs <= config.timeouts.requestMs,
      'HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
    r.check(
      config.cache.entryMaxBytes <= config.cache.l1MaxBytes / 4,
      'CACHE_ENTRY_MAX_BYTES must be at most a quarter of CACHE_L1_MAX_BYTES, so that one answer cannot empty the cache',
    );
    r.check(config.cursorSecret.length >= 16, 'CURSOR_SECRET must be at least 16 characters');
    // JSON escaping can make content up to 6x longer on the wire (a control character becomes
    // \u00XX); a file at the limit must still fit in a request body, whatever it holds.
    r.check(
      config.bodyLimitBytes >= 6 * config.fileMaxBytes + 64 * 1024,
      'BODY_LIMIT_BYTES must be at least 6 x FILE_MAX_BYTES + 65536 so that a file at its limit fits in a request body',
    );
    r.done();
    return config;
  }

  /** The same configuration pointed at `url` (the embedded database's, once it is up). */
  withDatabaseUrl(url: string): AppConfig {
    return new AppConfig({ ...this, databaseUrl: url });
  }

  /** Most connections the pool may open (SQLAlchemy: pool_size + max_overflow). */
  get poolMax(): number {
    return this.pool.size + this.pool.maxOverflow;
  }

  /** The effective configuration with every secret hidden, for logs and the debug route. */
  redacted(): RedactedConfig {
    return {
      ...this,
      databaseUrl: this.databaseUrl === undefined ? undefined : redactUrl(this.databaseUrl),
      databaseReplicaUrls: this.databaseReplicaUrls.map(redactUrl),
      redisUrl: this.redisUrl === undefined ? undefined : redactUrl(this.redisUrl),
      admin: { email: this.admin.email, password: this.admin.password === undefined ? undefined : '***' },
      metricsToken: this.metricsToken === undefined ? undefined : '***',
      cursorSecret: '***',
      poolMax: this.poolMax,
    };
  }

}

function isOrigin(entry: string): boolean {
  if (entry === '*') return true;
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !entry.endsWith('/');
  } catch {
    return false;
  }
}

const OTEL_EXPORTERS = ['otlp', 'console', 'none'] as const;

/**
 * Off unless configured: an endpoint or an explicit exporter turns traces on (the SDK's own default
 * would export to localhost:4318 whenever it is loaded); OTEL_SDK_DISABLED=true and `none` win.
 */
function parseTelemetry(r: EnvReader): TelemetryConfig {
  const disabled = r.bool('OTEL_SDK_DISABLED', false);
  const endpoint = r.url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']) ?? r.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']);
  const tracesExporter = r.raw('OTEL_TRACES_EXPORTER') === undefined ? undefined : r.oneOf('OTEL_TRACES_EXPORTER', 'otlp', OTEL_EXPORTERS);
  const metricsExporter = r.oneOf('OTEL_METRICS_EXPORTER', 'none', OTEL_EXPORTERS);
  return {
    traces: !disabled && tracesExporter !== 'none' && (endpoint !== undefined || tracesExporter !== undefined),
    metrics: !disabled && metricsExporter !== 'none',
    serviceName: r.string('OTEL_SERVICE_NAME', 'projects-backend', { maxLength: 255 }),
  };
}

/** `WORKERS`: a count, or `auto` for the cores this process may use. */
function parseWorkers(r: EnvReader): number {
  if (r.raw('WORKERS')?.toLowerCase() === 'auto') return availableParallelism();
  return r.int('WORKERS', 1, 1, 256);
}

/**
 * `TRUST_PROXY`: `false` (default: the socket address is the client), `true` (trust every hop:
 * only behind a proxy that overwrites X-Forwarded-For), or a list of proxy addresses / CIDRs.
 */
function parseTrustProxy(value: string | undefined, r: EnvReader): boolean | string[] {
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower === 'false' || lower === '0') return false;
  if (lower === 'true' || lower === '1') return true;
  return r.list('TRUST_PROXY', [], (e) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(e) || e === 'loopback', 'true, false, or a comma-separated list of IP addresses or CIDRs');
}
