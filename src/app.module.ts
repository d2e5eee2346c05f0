import { DynamicModule, Module } from '@nestjs/common';
import { ActivitiesModule } from './activities/activities.module';
import { AuthModule } from './auth/auth.module';
import { CacheModule } from './cache/cache.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ENTITIES } from './entities';
import { DebuggingModule } from './debugging/debugging.module';
import { FilesModule } from './files/files.module';
import { HttpModule } from './http/http.module';
import { RateLimitModule } from './http/rate-limit/rate-limit.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { ProjectsModule } from './projects/projects.module';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        HttpModule,
        DatabaseModule.forRoot(ENTITIES),
        CacheModule,
        RateLimitModule,
        AuthModule,
        ProjectsModule,
        FilesModule,
        ActivitiesModule,
        MonitoringModule,
        DebuggingModule.register(config),
      ],
    };
  }
}
