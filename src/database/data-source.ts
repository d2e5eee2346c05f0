import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { AppConfig } from '../config/app-config';
import { MIGRATIONS } from '../../migrations';

/**
 * TypeORM options for the application's DataSource. Pool options live in `extra`, which TypeORM
 * hands to `new pg.Pool()` last, so they win over its own defaults.
 */
/** The entity classes of every table (src/entities.ts); running migrations needs none. */
export type Entities = NonNullable<PostgresDataSourceOptions['entities']>;

/**
 * With `replicaUrls`, TypeORM's replication: one pool per replica (`driver.slaves`, same pool
 * options), and `defaultMode: 'master'` so that nothing reaches a replica unless a repository asks
 * for it (PreparedSql.readLagTolerant): TypeORM's own default sends every SELECT to a replica, and it
 * knows nothing of replication lag (typeorm#9427). Migrations and tools pass none.
 */
export function dataSourceOptions(config: AppConfig, url: string, entities: Entities = [], replicaUrls: readonly string[] = []): PostgresDataSourceOptions {
  const { pool } = config;
  const servers = replicaUrls.length === 0 ? { url } : { replication: { master: { url }, slaves: replicaUrls.map((u) => ({ url: u })), defaultMode: 'master' as const } };
  return {
    type: 'postgres',
    ...servers,
    entities,
    migrations: MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    // The migrations own the schema. TypeORM would otherwise query pg_available_extensions and try
    // CREATE EXTENSION "uuid-ossp" at every start; gen_random_uuid() is built into PostgreSQL 13+,
    // and naming pgcrypto makes generated migrations default uuid keys to it, as ours do.
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    applicationName: 'projects-backend',
    extra: {
      max: config.poolMax,
      // pg-pool closes idle clients above `min` after idleTimeoutMillis: the overflow connections.
      min: pool.size,
      idleTimeoutMillis: pool.idleTimeoutMs,
      // pg waits forever by default; this bounds both the wait in the queue and a new connect.
      connectionTimeoutMillis: pool.timeoutMs,
      maxLifetimeSeconds: pool.recycleS,
      statement_timeout: pool.statementTimeoutMs,
      // Idle sockets across NAT or a proxy are silently dropped without keepalive.
      keepAlive: true,
    },
  };
}
