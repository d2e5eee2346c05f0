import { DynamicModule, Global, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions, Entities } from './data-source';
import { isConnectionError } from './database.errors';
import { DatabaseHealth } from './database.health';
import { lazyReplicaPools } from './lazy-replica-pools';
import { PoolObserver } from './pool-observer';
import { PreparedSql } from './prepared-sql';
import { QueryObserver } from './query-observer';
import { replicaPoolName } from './replica-router';

/** The application's DataSource (the primary's pg pool, and one per replica), its observers, its health probe and the repositories' PreparedSql. */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly observer: PoolObserver,
    private readonly queries: QueryObserver,
  ) {}

  static forRoot(entities: Entities): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => {
            if (!config.databaseUrl) throw new Error('DatabaseModule needs a database URL (set by main.ts or the tests)');
            return {
              ...dataSourceOptions(config, config.databaseUrl, entities, config.databaseReplicaUrls),
              retryAttempts: config.dbConnectRetries,
              retryDelay: 1000,
              toRetry: (err: unknown) => isConnectionError(err),
            };
          },
          dataSourceFactory: async (options) => lazyReplicaPools(new DataSource(options!)),
        }),
      ],
      providers: [PoolObserver, QueryObserver, DatabaseHealth, PreparedSql],
      exports: [PoolObserver, QueryObserver, DatabaseHealth, PreparedSql],
    };
  }

  onModuleInit(): void {
    const driver = this.dataSource.driver as PostgresDriver;
    const pools: [string, Pool][] = [['primary', driver.master], ...driver.slaves.map((r, i): [string, Pool] => [replicaPoolName(i), r])];
    for (const [name, pool] of pools) {
      this.observer.attach(pool, name);
      this.queries.attach(pool);
    }
  }
}
