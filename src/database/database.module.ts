import { DynamicModule, Global, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { isConnectionError } from './database.errors';
import { DatabaseHealth } from './database.health';
import { PoolObserver } from './pool-observer';

/** The application's DataSource (one configured pg pool), its observer and its health probe. */
@Global()
@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly observer: PoolObserver,
  ) {}

  static forRoot(): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => {
            if (!config.databaseUrl) throw new Error('DatabaseModule needs a database URL (set by main.ts or the tests)');
            return {
              ...dataSourceOptions(config, config.databaseUrl),
              autoLoadEntities: true,
              retryAttempts: config.dbConnectRetries,
              retryDelay: 1000,
              toRetry: (err: unknown) => isConnectionError(err),
            };
          },
        }),
      ],
      providers: [PoolObserver, DatabaseHealth],
      exports: [PoolObserver, DatabaseHealth],
    };
  }

  onModuleInit(): void {
    const driver = this.dataSource.driver as PostgresDriver;
    this.observer.attach(driver.master, 'primary');
    driver.slaves.forEach((replica, i) => this.observer.attach(replica, `replica${i + 1}`));
  }
}
