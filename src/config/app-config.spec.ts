import { availableParallelism } from 'node:os';
import { AppConfig } from './app-config';
import { ConfigError } from './env-schema';

describe('AppConfig.fromEnv', () => {
  it('works with no configuration at all, on the embedded database', () => {
    const sut = AppConfig.fromEnv({}, '/srv/app');

    expect(sut.port).toBe(3000);
    expect(sut.listenBacklog).toBe(4096);
    expect(sut.databaseUrl).toBeUndefined();
    expect(sut.embeddedPg).toEqual({ dir: '/srv/app/.data/postgres', port: 54329 });
    expect(sut.pool).toMatchObject({ size: 10, maxOverflow: 10, timeoutMs: 30_000, prePing: true });
    expect(sut.poolMax).toBe(20);
  });

  it('reads typed values', () => {
    const sut = AppConfig.fromEnv({
      PORT: '8080',
      LISTEN_BACKLOG: '1024',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      DB_POOL_SIZE: '25',
      DB_MAX_OVERFLOW: '0',
      DB_PRE_PING: 'false',
      TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
      EMBEDDED_PG_DIR: '/var/pg',
    });

    expect(sut.port).toBe(8080);
    expect(sut.listenBacklog).toBe(1024);
    expect(sut.databaseUrl).toBe('postgres://u:p@db:5432/app');
    expect(sut.poolMax).toBe(25);
    expect(sut.pool.prePing).toBe(false);
    expect(sut.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(sut.embeddedPg.dir).toBe('/var/pg');
  });

  it('names every bad variable and what it expects, all at once', () => {
    let error: unknown;
    try {
      AppConfig.fromEnv({ PORT: 'eighty', DB_POOL_SIZE: '0', DB_PRE_PING: 'maybe', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect([...problems].sort()).toEqual([
      'DATABASE_URL must be a URL starting with postgres:// or postgresql:// (got "mysql://x")',
      'DB_POOL_SIZE must be an integer between 1 and 1000 (got "0")',
      'DB_PRE_PING must be true or false (got "maybe")',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'PORT must be an integer between 0 and 65535 (got "eighty")',
    ]);
  });

  it('reads replica URLs as a list, refuses a bad one without showing its password, and hides their passwords', () => {
    const sut = AppConfig.fromEnv({ DATABASE_REPLICA_URLS: 'postgres://app:s3cret@replica-a/app, postgresql://app:s3cret@replica-b/app' });

    expect(sut.databaseReplicaUrls).toEqual(['postgres://app:s3cret@replica-a/app', 'postgresql://app:s3cret@replica-b/app']);
    expect(JSON.stringify(sut.redacted().databaseReplicaUrls)).not.toContain('s3cret');
    expect(AppConfig.fromEnv({}).databaseReplicaUrls).toEqual([]);
    expect(() => AppConfig.fromEnv({ DATABASE_REPLICA_URLS: 'postgres://a@r1/app,mysql://u:s3cret@r2/app' })).toThrow(
      'DATABASE_REPLICA_URLS must be a comma-separated list of URLs starting with postgres:// or postgresql:// (got "mysql://u:***@r2/app")',
    );
  });

  it('allows replicas 1 s of lag by default, and refuses a DB_REPLICA_MAX_LAG_MS out of range', () => {
    expect(AppConfig.fromEnv({}).dbReplicaMaxLagMs).toBe(1000);
    expect(AppConfig.fromEnv({ DB_REPLICA_MAX_LAG_MS: '300' }).dbReplicaMaxLagMs).toBe(300);
    expect(() => AppConfig.fromEnv({ DB_REPLICA_MAX_LAG_MS: '-1' })).toThrow('DB_REPLICA_MAX_LAG_MS');
    expect(() => AppConfig.fromEnv({ DB_REPLICA_MAX_LAG_MS: '60001' })).toThrow('an integer between 0 and 60000');
  });

  it('sends named prepared statements unless DB_PREPARED_STATEMENTS is false', () => {
    expect(AppConfig.fromEnv({}).dbPreparedStatements).toBe(true);
    expect(AppConfig.fromEnv({ DB_PREPARED_STATEMENTS: 'false' }).dbPreparedStatements).toBe(false);
  });

  it('rejects a short admin password', () => {
    expect(() => AppConfig.fromEnv({ ADMIN_PASSWORD: 'short' })).toThrow('ADMIN_PASSWORD must be at least 8 characters');
  });

  it('hides secrets in the redacted view', () => {
    const sut = AppConfig.fromEnv({
      DATABASE_URL: 'postgres://app:s3cret@db/app',
      REDIS_URL: 'redis://:hunter2@cache:6379',
      ADMIN_PASSWORD: 'correct horse',
      METRICS_TOKEN: 'tok',
    });

    const text = JSON.stringify(sut.redacted());

    expect(text).not.toMatch(/s3cret|hunter2|correct horse|"tok"/);
    expect(text).toContain('postgres://app:***@db/app');
  });

  it('bounds the in-memory cache by bytes, with a per-entry cap that defaults to 1/16 of the budget, 4 MiB at most', () => {
    expect(AppConfig.fromEnv({}).cache).toMatchObject({ l1MaxBytes: 64 * 1024 * 1024, entryMaxBytes: 4 * 1024 * 1024, tagVersionsMax: 100_000 });
    expect(AppConfig.fromEnv({ CACHE_L1_MAX_BYTES: String(8 * 1024 * 1024) }).cache.entryMaxBytes).toBe(512 * 1024);
    expect(() => AppConfig.fromEnv({ CACHE_L1_MAX_BYTES: String(8 * 1024 * 1024), CACHE_ENTRY_MAX_BYTES: String(4 * 1024 * 1024) })).toThrow(
      'CACHE_ENTRY_MAX_BYTES must be at most a quarter of CACHE_L1_MAX_BYTES',
    );
    expect(() => AppConfig.fromEnv({ CACHE_L1_MAX_BYTES: '1000', CACHE_L1_MAX_ENTRIES: '5000000' })).toThrow(
      /CACHE_L1_MAX_BYTES must be an integer between 1048576 and 68719476736 \(got "1000"\)[\s\S]*CACHE_L1_MAX_ENTRIES must be an integer between 1 and 1000000/,
    );
  });

  it('runs one worker by default, a given count, or one per core with WORKERS=auto', () => {
    expect(AppConfig.fromEnv({}).workers).toBe(1);
    expect(AppConfig.fromEnv({ WORKERS: '4' }).workers).toBe(4);
    expect(AppConfig.fromEnv({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(() => AppConfig.fromEnv({ WORKERS: '0' })).toThrow('WORKERS must be an integer between 1 and 256 (got "0")');
    expect(() => AppConfig.fromEnv({ WORKERS: 'many' })).toThrow('WORKERS must be an integer between 1 and 256 (got "many")');
  });

  it('turns OpenTelemetry on only when an OTEL_* endpoint or exporter says so, and off with OTEL_SDK_DISABLED or none', () => {
    const endpoint = 'http://collector:4318';
    expect(AppConfig.fromEnv({}).telemetry).toEqual({ traces: false, metrics: false, serviceName: 'projects-backend' });
    expect(AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).telemetry).toMatchObject({ traces: true, metrics: false });
    expect(AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).telemetry.traces).toBe(true);
    expect(AppConfig.fromEnv({ OTEL_TRACES_EXPORTER: 'console' }).telemetry.traces).toBe(true);
    expect(AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp' }).telemetry).toMatchObject({ traces: false, metrics: true });
    expect(AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_METRICS_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).telemetry).toMatchObject({ traces: false, metrics: false });
    expect(AppConfig.fromEnv({ OTEL_SERVICE_NAME: 'api-eu' }).telemetry.serviceName).toBe('api-eu');
    expect(() => AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT must be a URL starting with http:\/\/ or https:\/\/[\s\S]*OTEL_TRACES_EXPORTER must be one of otlp, console, none \(got "jaeger"\)/,
    );
  });
});
