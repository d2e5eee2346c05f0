import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { CacheModule } from '../../cache/cache.module';
import { AppConfig } from '../../config/app-config';
import { RateLimiter } from './rate-limiter';
import { RateLimitStats } from './rate-limit.stats';
import { RateLimitStorage } from './rate-limit.storage';

@Module({
  imports: [CacheModule],
  providers: [RateLimitStorage],
  exports: [RateLimitStorage],
})
export class RateLimitStorageModule {}

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [AppConfig, RateLimitStorage],
      useFactory: (config: AppConfig, storage: RateLimitStorage) => ({
        throttlers: [
          { name: 'burst', ttl: 1_000, limit: config.rateLimit.perSecond },
          { name: 'sustained', ttl: 60_000, limit: config.rateLimit.perMinute },
          { name: 'anon', ttl: 60_000, limit: config.rateLimit.anonPerMinute },
          { name: 'login', ttl: 60_000, limit: config.rateLimit.loginPerMinute },
          { name: 'login-account', ttl: 60_000, limit: config.rateLimit.loginAccountPerMinute },
        ],
        storage,
      }),
    }),
    RateLimitStorageModule,
  ],
  providers: [RateLimiter, RateLimitStats],
  exports: [RateLimiter, RateLimitStats, RateLimitStorageModule, ThrottlerModule],
})
export class RateLimitModule {}
