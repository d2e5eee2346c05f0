import { Global, Module } from '@nestjs/common';
import { WorkerChannel } from '../cluster/worker-channel';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis-connection';

@Global()
@Module({
  providers: [RedisConnection, CacheService, { provide: WorkerChannel, useFactory: () => WorkerChannel.shared() }],
  exports: [RedisConnection, CacheService, WorkerChannel],
})
export class CacheModule {}
