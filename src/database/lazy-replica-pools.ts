import { Logger } from '@nestjs/common';
import type { Pool, PoolConfig } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { replicaPoolName } from './replica-router';

type Credentials = NonNullable<PostgresDataSourceOptions['replication']>['slaves'][number];
type PoolFactory = (options: PostgresDataSourceOptions, credentials: Credentials) => Promise<Pool>;

/**
 * TypeORM opens and releases one connection on every pool it creates (`PostgresDriver.createPool`)
 * and fails `initialize()` when that fails, so a replica down while an instance starts would keep
 * the instance from starting, though its reads can go to the primary. The replicas' pools are made
 * here instead, from the same options (`dataSourceOptions` gives a URL, the application name and
 * `extra`), without that connection: a replica's first read connects, or falls back to the primary
 * (PreparedSql.readLagTolerant). The primary's pool is still TypeORM's, test connection included.
 */
export function lazyReplicaPools(dataSource: DataSource): DataSource {
  const driver = dataSource.driver as PostgresDriver & { createPool: PoolFactory; postgres: { Pool: new (config: PoolConfig) => Pool } };
  const replicas: readonly Credentials[] = (dataSource.options as PostgresDataSourceOptions).replication?.slaves ?? [];
  const logger = new Logger('ReplicaPool');
  const createPool = driver.createPool.bind(driver);
  driver.createPool = async (options, credentials) => {
    if (!replicas.includes(credentials)) return createPool(options, credentials);
    const pool = new driver.postgres.Pool({ connectionString: credentials.url, application_name: options.applicationName, ...options.extra });
    // An idle connection dropped by a replica that stopped: without a listener it would crash the process.
    pool.on('error', (err: Error) => logger.warn(`${replicaPoolName(replicas.indexOf(credentials))}: idle connection lost (${err.message})`));
    return pool;
  };
  return dataSource;
}
