import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { HealthController } from './health.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { OtelPoolMetrics } from './otel-pool-metrics';
import { PerformanceController } from './performance.controller';

@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    MetricsModule,
    // Mounts our controller, which serves MetricsService's own registry (default metrics included).
    PrometheusModule.register({ path: '/metrics', controller: MetricsController, defaultMetrics: { enabled: false } }),
  ],
  controllers: [HealthController, PerformanceController],
  providers: [HttpMetrics, OtelPoolMetrics],
})
export class MonitoringModule {}
