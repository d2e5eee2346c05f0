import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CacheHitsHook } from './cache-hits.hook';

/** Its own module because it joins the cache with AuthModule's guard, which itself uses the cache. */
@Module({
  imports: [AuthModule],
  providers: [CacheHitsHook],
})
export class CacheHitsModule {}
