import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type HistogramConfiguration } from 'prom-client';
import { CacheService } from '../cache/cache.service';
import type { CacheStatsSnapshot } from '../cache/tiered-cache';
import { IPC, WorkerChannel } from '../cluster/worker-channel';
import { AppConfig } from '../config/app-config';
import { PoolObserver } from '../database/pool-observer';
import type { PoolSnapshot } from '../database/pool-snapshot';
import { PreparedSql } from '../database/prepared-sql';
import { QueryObserver } from '../database/query-observer';
import { TIERS } from '../http/rate-limit/rate-limit-step';
import { RateLimitStats } from '../http/rate-limit/rate-limit.stats';
import { traceExemplar, type TraceExemplar } from './exemplars';
import { openMetricsText, type MetricsFormat } from './open-metrics';
import { mergeTimings, performanceMonitor, type TimingStats } from './performance-monitor';

/** Seconds; shared by every latency histogram, including those features register on the registry. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];
// The primary asks every worker in turn: a scrape waits for the slowest one, within this bound.
const GROUP_ANSWER_MS = 5_000;

type ExemplarHistogram = { observe(data: { labels: Record<string, string>; value: number; exemplarLabels?: TraceExemplar }): void };

/**
 * Every Prometheus series of the service, on a registry of its own (two apps in one process, as in
 * the tests, do not collide in prom-client's global one). Pool gauges, cache counters and the
 * in-flight gauge are read at scrape time; the other series are fed by the observers' events, so
 * the request path pays only for the HTTP histogram. A feature registers its own series here
 * (e.g. src/activities/activity-writer.metrics.ts).
 *
 * In a cluster worker (WORKERS > 1) the figures it reports are the whole group's: the primary
 * gathers every worker's registry and aggregates them (src/cluster/group-metrics.ts), and the
 * performance timings are merged likewise.
 *
 * With tracing on, the HTTP and query duration histograms keep the trace of a sampled observation
 * as an exemplar per bucket, shown in OpenMetrics only. Without tracing they are created without
 * exemplar storage, so an untraced process observes exactly as before. A cluster answers in the
 * Prometheus format: prom-client's aggregation drops exemplars.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Counted by the HTTP hooks, read at scrape time: a gauge update per request costs label hashing. */
  inFlight = 0;
  private readonly httpChildren = new Map<string, { observe(v: number): void }>();
  /** Whether observations carry their trace as an exemplar: tracing is on. */
  readonly exemplars: boolean;
  private readonly stopAnswering: (() => void)[] = [];

  constructor(
    private readonly channel: WorkerChannel,
    private readonly config: AppConfig,
    private readonly pool: PoolObserver,
    private readonly queries: QueryObserver,
    private readonly cache: CacheService,
    private readonly rateLimits: RateLimitStats,
    private readonly sql: PreparedSql,
  ) {
    const registers = [this.registry];
    this.exemplars = config.telemetry.traces;
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = this.tracedHistogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
    });
    const inFlight = () => this.inFlight;
    new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
  }

  /**
   * A histogram that keeps exemplars while tracing is on. prom-client refuses exemplar storage on a
   * registry of the Prometheus content type, although the registry is rendered in either format
   * (open-metrics.ts), so such a histogram is registered by hand.
   */
  private tracedHistogram<T extends string>(config: HistogramConfiguration<T>): Histogram<T> {
    const histogram = new Histogram({ ...config, enableExemplars: this.exemplars, registers: this.exemplars ? [] : [this.registry] });
    if (this.exemplars) this.registry.registerMetric(histogram);
    return histogram;
  }

  /** One histogram child per (method, route, status): label hashing happens once per combination. */
  observeHttp(method: string, route: string, status: number, seconds: number, exemplar?: TraceExemplar): void {
    if (exemplar !== undefined) {
      (this.httpDuration as unknown as ExemplarHistogram).observe({
        labels: { method, route, status_code: String(status) },
        value: seconds,
        exemplarLabels: exemplar,
      });
      return;
    }
    const key = `${method} ${status} ${route}`;
    let child = this.httpChildren.get(key);
    if (child === undefined) {
      child = this.httpDuration.labels(method, route, String(status));
      this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /**
   * This process's metrics in the format asked for, or the whole cluster's in a worker, always in
   * the Prometheus format there (the aggregated series have no exemplars to show).
   */
  async exposition(format: MetricsFormat): Promise<{ format: MetricsFormat; text: string }> {
    if (this.channel.enabled) return { format: 'prometheus', text: await this.channel.request<string>(IPC.groupMetrics, null, GROUP_ANSWER_MS) };
    if (format === 'openmetrics') return { format, text: await openMetricsText(this.registry) };
    return { format, text: await this.registry.metrics() };
  }

  /** Timings by operation: this process's, or the whole cluster's in a worker (see mergeTimings). */
  async timings(): Promise<Record<string, TimingStats>> {
    if (!this.channel.enabled) return performanceMonitor.all();
    return mergeTimings(await this.channel.request<Record<string, TimingStats>[]>(IPC.groupTimings, null, GROUP_ANSWER_MS));
  }

  /** Clears the timings: this process's, or every worker's in a cluster. */
  async resetTimings(): Promise<void> {
    if (this.channel.enabled) await this.channel.request(IPC.resetTimings, null, GROUP_ANSWER_MS);
    else performanceMonitor.reset();
  }

  onModuleInit(): void {
    if (this.channel.enabled) {
      this.stopAnswering.push(
        this.channel.handle(IPC.workerMetrics, () => this.registry.getMetricsAsJSON()),
        this.channel.handle(IPC.workerTimings, () => performanceMonitor.all()),
        this.channel.handle(IPC.resetTimings, () => performanceMonitor.reset()),
      );
    }
    this.registerPool();
    this.registerQueries();
    this.registerCache();
    this.registerRateLimits();
  }

  onModuleDestroy(): void {
    for (const stop of this.stopAnswering) stop();
  }

  private registerPool(): void {
    const registers = [this.registry];
    const pool = this.pool;
    const gauge = (name: string, help: string, read: (s: PoolSnapshot) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect() {
          for (const name of pool.poolNames()) this.set({ pool: name }, read(pool.snapshot(name)));
        },
      });
    gauge('db_pool_connections', 'Open connections (SQLAlchemy: checked in + checked out)', (s) => s.total);
    gauge('db_pool_connections_active', 'Connections in use (checked out)', (s) => s.checked_out);
    gauge('db_pool_connections_idle', 'Idle connections (checked in)', (s) => s.checked_in);
    gauge('db_pool_connections_pending', 'Callers waiting for a connection', (s) => s.waiting);
    gauge('db_pool_connections_max', 'Most connections the pool may open (pool_size + max_overflow)', (s) => s.max);
    gauge('db_pool_connections_min', 'Connections kept open (pool_size)', (s) => s.pool_size);
    gauge('db_pool_overflow', 'Open connections minus pool_size (SQLAlchemy overflow; negative until full)', (s) => s.overflow);

    const timeouts = new Counter({ name: 'db_pool_connections_timeout_total', help: 'Callers that gave up waiting for a connection', labelNames: ['pool'], registers });
    const acquire = new Histogram({ name: 'db_pool_connections_acquire_seconds', help: 'Time waiting for a connection', labelNames: ['pool'], buckets: WAIT_BUCKETS, registers });
    const usage = new Histogram({ name: 'db_pool_connections_usage_seconds', help: 'Time a connection was held', labelNames: ['pool'], buckets: LATENCY_BUCKETS, registers });
    const creation = new Histogram({ name: 'db_pool_connections_creation_seconds', help: 'Time to open a new connection', labelNames: ['pool'], buckets: WAIT_BUCKETS, registers });
    for (const name of pool.poolNames()) timeouts.inc({ pool: name }, 0);
    pool.events.timedOut.subscribe((name) => timeouts.inc({ pool: name }));
    pool.events.acquired.subscribe(({ pool, ms }) => acquire.observe({ pool }, ms / 1000));
    pool.events.released.subscribe(({ pool, ms }) => usage.observe({ pool }, ms / 1000));
    pool.events.created.subscribe(({ pool, ms }) => creation.observe({ pool }, ms / 1000));

    const fallbacks = new Counter({
      name: 'db_replica_fallbacks_total',
      help: 'Lag-tolerant reads a replica did not answer (down, pool timeout, recovery conflict), served by the primary',
      labelNames: ['pool'],
      registers,
    });
    for (const name of pool.poolNames().filter((n) => n !== 'primary')) fallbacks.inc({ pool: name }, 0);
    this.sql.replicaFallbacks.subscribe((name) => fallbacks.inc({ pool: name }));
  }

  private registerQueries(): void {
    const registers = [this.registry];
    const duration = this.tracedHistogram({
      name: 'db_query_duration_seconds',
      help: 'Query duration by operation',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
    });
    const slow = new Counter({
      name: 'db_slow_queries_total',
      help: `Queries slower than DB_SLOW_QUERY_MS (${this.config.dbSlowQueryMs} ms)`,
      labelNames: ['operation'],
      registers,
    });
    // Published synchronously where the statement's promise settles, in the context of its caller:
    // the active span is the request's (or one inside it), so the trace is the request's.
    const withExemplar = duration as unknown as ExemplarHistogram;
    const observe = this.exemplars
      ? (operation: string, seconds: number) => withExemplar.observe({ labels: { operation }, value: seconds, exemplarLabels: traceExemplar() })
      : (operation: string, seconds: number) => duration.observe({ operation }, seconds);
    this.queries.executed.subscribe(({ operation, ms, slow: isSlow }) => {
      observe(operation, ms / 1000);
      if (isSlow) slow.inc({ operation });
    });
  }

  // Read from the caches' own counters at scrape time: two lookups per cached GET would otherwise
  // each pay prom-client's label hashing.
  private registerCache(): void {
    const registers = [this.registry];
    const cache = this.cache;
    const fromStats = (name: string, help: string, labelNames: string[], read: (s: CacheStatsSnapshot) => [Record<string, string>, number][]) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const stats of cache.stats()) for (const [labels, value] of read(stats)) this.inc(labels, value);
        },
      });
    fromStats('cache_requests_total', 'Cache lookups by result', ['cache', 'result'], (s) => [
      [{ cache: s.cache, result: 'hit' }, s.hits],
      [{ cache: s.cache, result: 'miss' }, s.misses],
    ]);
    fromStats('cache_evictions_total', 'Entries evicted from the in-memory LRU', ['cache'], (s) => [[{ cache: s.cache }, s.evictions]]);
    fromStats('cache_errors_total', 'Cache errors (Redis unreachable or failing)', ['cache'], (s) => [[{ cache: s.cache }, s.errors]]);
  }

  private registerRateLimits(): void {
    const rejections = new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests answered 429, by tier',
      labelNames: ['tier'],
      registers: [this.registry],
    });
    for (const tier of TIERS) rejections.inc({ tier }, 0);
    this.rateLimits.rejection.subscribe((tier) => rejections.inc({ tier }));
  }
}
