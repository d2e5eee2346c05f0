import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, MetricsService } from '../monitoring/metrics.service';
import { ActivityWriter } from './activity-writer';

const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** The group-commit writer's series, on the service's registry. */
@Injectable()
export class ActivityWriterMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly writer: ActivityWriter,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const size = new Histogram({ name: 'activity_writer_batch_size', help: 'Rows per group commit', buckets: BATCH_BUCKETS, registers });
    const duration = new Histogram({
      name: 'activity_writer_flush_duration_seconds',
      help: 'Time to write and commit one batch',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const failed = new Counter({ name: 'activity_writer_failed_batches_total', help: 'Batches that did not commit', registers });
    this.writer.flushed.subscribe(({ rows, seconds, committed }) => {
      size.observe(rows);
      duration.observe(seconds);
      if (!committed) failed.inc();
    });
  }
}
