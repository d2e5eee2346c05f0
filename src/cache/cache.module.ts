import { Global, Module } from '@nestjs/common';
import { CacheService } from './cache.service';
import { CachedRoutes } from './cached-routes';
import { RedisConnection } from './redis-connection';

@Global()
@Module({
  providers: [RedisConnection, CacheService, CachedRoutes],
  exports: [RedisConnection, CacheService, CachedRoutes],
})
export class CacheModule {}
