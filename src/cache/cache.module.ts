import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CacheService } from './cache.service';
import { CachedRoutes } from './cached-routes';
import { CachedInterceptor } from './cached.interceptor';
import { RedisConnection } from './redis-connection';

@Global()
@Module({
  providers: [RedisConnection, CacheService, CachedRoutes, { provide: APP_INTERCEPTOR, useClass: CachedInterceptor }],
  exports: [RedisConnection, CacheService, CachedRoutes],
})
export class CacheModule {}
