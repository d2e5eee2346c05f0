import { Global, Module } from '@nestjs/common';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis-connection';

@Global()
@Module({
  providers: [RedisConnection, CacheService],
  exports: [RedisConnection, CacheService],
})
export class CacheModule {}
