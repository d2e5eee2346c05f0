import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
type MetricJson = MetricsJson[number] & { aggregator?: string };
type Value = MetricValue<string> & { metricName?: string };

/** Series that only ever grow in a live process. */
const MONOTONIC = new Set<string>(['counter', 'histogram']);
/** Gauges shown per worker (label `worker`) as well as summed: the pool is per process. */
const PER_WORKER = /^db_pool_/;

function labelKey(value: Value): string {
  const labels = Object.entries(value.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `${value.metricName ?? ''}|${JSON.stringify(labels)}`;
}

/**
 * The whole process group's metrics, for /metrics of any worker. Summing the live workers'
 * counters (what AggregatorRegistry does) makes the total drop when a worker dies and restarts
 * from zero, which rate() reads as a counter reset and turns into a spike (prom-client #165). So
 * the last values known from each worker are kept, and when a worker exits its counters and
 * histograms are folded into `retired`, which is added to every later total: every aggregated
 * counter only grows. What a worker counted after its last scrape and before it died is lost; the
 * total still never goes back.
 */
export class GroupMetrics {
  private readonly known = new Map<number, MetricsJson>();
  private readonly retired = new Map<string, { metric: MetricJson; values: Map<string, Value> }>();

  /** The latest metrics of the worker in slot `worker`. */
  update(worker: number, metrics: MetricsJson): void {
    this.known.set(worker, metrics);
  }

  /** The worker in slot `worker` exited: its counters stay in the totals, its gauges leave them. */
  retire(worker: number): void {
    const last = this.known.get(worker);
    this.known.delete(worker);
    for (const metric of (last ?? []) as MetricJson[]) {
      if (!MONOTONIC.has(String(metric.type))) continue;
      let kept = this.retired.get(metric.name);
      if (kept === undefined) {
        kept = { metric: { ...metric, values: [] }, values: new Map() };
        this.retired.set(metric.name, kept);
      }
      for (const value of metric.values as Value[]) {
        const key = labelKey(value);
        const sum = kept.values.get(key);
        kept.values.set(key, { ...value, value: (sum?.value ?? 0) + value.value });
      }
    }
  }

  aggregate(): Registry {
    const sources: MetricJson[][] = [...this.known].map(([worker, metrics]) => (metrics as MetricJson[]).map((m) => withWorkerSeries(m, worker)));
    sources.push([...this.retired.values()].map(({ metric, values }) => ({ ...metric, values: [...values.values()] })));
    return AggregatorRegistry.aggregate(sources);
  }
}

/** A per-process gauge keeps its unlabelled series (summed over workers) plus one per worker. */
function withWorkerSeries(metric: MetricJson, worker: number): MetricJson {
  if (String(metric.type) !== 'gauge' || !PER_WORKER.test(metric.name)) return metric;
  const own = (metric.values as Value[]).map((v) => ({ ...v, labels: { ...v.labels, worker: String(worker) } }));
  return { ...metric, values: [...metric.values, ...own] };
}
