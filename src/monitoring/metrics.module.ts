import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** Global so that the /metrics controller, mounted inside PrometheusModule, can reach the registry. */
@Global()
@Module({
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
