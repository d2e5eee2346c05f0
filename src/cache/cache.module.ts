import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CacheService } from './cache.service';
import { CachedInterceptor } from './cached.interceptor';
import { RedisConnection } from './redis-connection';

@Global()
@Module({
  providers: [RedisConnection, CacheService, { provide: APP_INTERCEPTOR, useClass: CachedInterceptor }],
  exports: [RedisConnection, CacheService],
})
export class CacheModule {}
