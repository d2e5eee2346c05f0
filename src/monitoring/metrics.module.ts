import { Global, Module } from '@nestjs/common';
import { ActivitiesModule } from '../activities/activities.module';
import { MetricsService } from './metrics.service';

/** Global so that the /metrics controller, mounted inside PrometheusModule, can reach the registry. */
@Global()
@Module({
  imports: [ActivitiesModule],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
