import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { metrics, type BatchObservableCallback, type Meter, type Observable } from '@opentelemetry/api';
import { AppConfig } from '../config/app-config';
import { PoolObserver } from '../database/pool-observer';
import { LATENCY_BUCKETS, WAIT_BUCKETS } from './metrics.service';

const POOL = 'db.client.connection.pool.name';
const STATE = 'db.client.connection.state';
// The instrumentation scope: this code, not the service (OTEL_SERVICE_NAME names that).
const SCOPE = 'projects-backend';

/**
 * The pools' figures under the OpenTelemetry semantic conventions for database client connections
 * (db.client.connection.*), for a process that exports metrics over OTLP; the Prometheus series of
 * the same figures (db_pool_*) are unchanged. Counts are read from the pool at each export; waits,
 * holds, opens and timeouts come from the pool observer's events. Names and units follow
 * semantic-conventions' database-metrics (durations in seconds). The pg instrumentation's own
 * db.client.connection.* instruments are dropped (src/telemetry/telemetry.ts): they name a pool by
 * its address and count every pool of the process into one.
 */
@Injectable()
export class OtelPoolMetrics implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    private readonly config: AppConfig,
    private readonly pool: PoolObserver,
  ) {}

  onModuleInit(): void {
    if (!this.config.telemetry.metrics) return;
    const meter = metrics.getMeter(SCOPE);
    this.registerCounts(meter);
    this.registerEvents(meter);
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  private registerCounts(meter: Meter): void {
    const count = meter.createObservableUpDownCounter('db.client.connection.count', {
      description: 'Connections in the state described by db.client.connection.state',
      unit: '{connection}',
    });
    const max = meter.createObservableUpDownCounter('db.client.connection.max', {
      description: 'Most connections the pool may open (pool_size + max_overflow)',
      unit: '{connection}',
    });
    const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      description: 'Callers waiting for a connection',
      unit: '{request}',
    });
    const observables: Observable[] = [count, max, pending];
    const observe: BatchObservableCallback = (result) => {
      for (const name of this.pool.poolNames()) {
        const s = this.pool.snapshot(name);
        result.observe(count, s.checked_in, { [POOL]: name, [STATE]: 'idle' });
        result.observe(count, s.checked_out, { [POOL]: name, [STATE]: 'used' });
        result.observe(max, s.max, { [POOL]: name });
        result.observe(pending, s.waiting, { [POOL]: name });
      }
    };
    meter.addBatchObservableCallback(observe, observables);
    this.stop = () => meter.removeBatchObservableCallback(observe, observables);
  }

  private registerEvents(meter: Meter): void {
    const events = this.pool.events;
    const timeouts = meter.createCounter('db.client.connection.timeouts', {
      description: 'Callers that gave up waiting for a connection (DB_POOL_TIMEOUT_MS)',
      unit: '{timeout}',
    });
    const seconds = (name: string, description: string, buckets: number[]) =>
      meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: buckets } });
    const wait = seconds('db.client.connection.wait_time', 'Time waiting for a connection', WAIT_BUCKETS);
    const use = seconds('db.client.connection.use_time', 'Time a connection was held', LATENCY_BUCKETS);
    const create = seconds('db.client.connection.create_time', 'Time to open a new connection', WAIT_BUCKETS);
    events.timedOut.subscribe((pool) => timeouts.add(1, { [POOL]: pool }));
    events.acquired.subscribe(({ pool, ms }) => wait.record(ms / 1000, { [POOL]: pool }));
    events.released.subscribe(({ pool, ms }) => use.record(ms / 1000, { [POOL]: pool }));
    events.created.subscribe(({ pool, ms }) => create.record(ms / 1000, { [POOL]: pool }));
  }
}
