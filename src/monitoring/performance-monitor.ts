/** Samples kept per operation for percentiles: the most recent ones (what an operator wants now). */
export const RESERVOIR_SIZE = 1024;
/** Distinct operations tracked; route templates and @Timed names are bounded by the code anyway. */
export const MAX_OPERATIONS = 1000;

export interface TimingStats {
  readonly count: number;
  readonly total: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

class Timing {
  count = 0;
  total = 0;
  min = Infinity;
  max = 0;
  private readonly samples = new Float64Array(RESERVOIR_SIZE);
  private next = 0;

  record(ms: number): void {
    this.count++;
    this.total += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % RESERVOIR_SIZE;
  }

  stats(): TimingStats {
    const kept = this.samples.slice(0, Math.min(this.count, RESERVOIR_SIZE)).sort();
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: this.count,
      total: round(this.total),
      min: round(this.count === 0 ? 0 : this.min),
      max: round(this.max),
      avg: round(this.count === 0 ? 0 : this.total / this.count),
      p50: round(percentile(kept, 0.5)),
      p95: round(percentile(kept, 0.95)),
      p99: round(percentile(kept, 0.99)),
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Timings by operation in milliseconds (route templates like "GET /api/projects/:id" and named
 * service operations from @Timed): exact count, total, min and max since the last reset, and
 * percentiles over a fixed-size window of recent samples, so memory stays bounded whatever the
 * traffic.
 */
export class PerformanceMonitor {
  private readonly timings = new Map<string, Timing>();
  dropped = 0;

  record(operation: string, ms: number): void {
    let timing = this.timings.get(operation);
    if (timing === undefined) {
      if (this.timings.size >= MAX_OPERATIONS) {
        this.dropped++;
        return;
      }
      timing = new Timing();
      this.timings.set(operation, timing);
    }
    timing.record(ms);
  }

  stats(operation: string): TimingStats | undefined {
    return this.timings.get(operation)?.stats();
  }

  all(): Record<string, TimingStats> {
    const out: Record<string, TimingStats> = {};
    for (const [name, timing] of [...this.timings].sort(([a], [b]) => a.localeCompare(b))) out[name] = timing.stats();
    return out;
  }

  reset(): void {
    this.timings.clear();
    this.dropped = 0;
  }

  get operations(): number {
    return this.timings.size;
  }
}

/**
 * Several processes' timings as one (the workers of a cluster). Count, total, min and max are
 * exact; each percentile is the highest of the processes' own, an upper bound of the group's,
 * since their samples are not shipped.
 */
export function mergeTimings(parts: readonly Record<string, TimingStats>[]): Record<string, TimingStats> {
  const merged = new Map<string, TimingStats>();
  for (const part of parts) {
    for (const [operation, t] of Object.entries(part)) {
      const m = merged.get(operation);
      if (m === undefined) {
        merged.set(operation, t);
        continue;
      }
      const count = m.count + t.count;
      const total = Math.round((m.total + t.total) * 1000) / 1000;
      merged.set(operation, {
        count,
        total,
        min: m.count === 0 ? t.min : t.count === 0 ? m.min : Math.min(m.min, t.min),
        max: Math.max(m.max, t.max),
        avg: count === 0 ? 0 : Math.round((total / count) * 1000) / 1000,
        p50: Math.max(m.p50, t.p50),
        p95: Math.max(m.p95, t.p95),
        p99: Math.max(m.p99, t.p99),
      });
    }
  }
  return Object.fromEntries([...merged].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The process's monitor. @Timed runs inside services, where nothing can be injected into a
 * decorator, so there is one per process (several apps in one process share it).
 */
export const performanceMonitor = new PerformanceMonitor();

/** Records how long an async method takes under `operation`, successful or not. */
export function Timed(operation: string): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const method = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    descriptor.value = async function timed(this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return await method.apply(this, args);
      } finally {
        performanceMonitor.record(operation, performance.now() - started);
      }
    };
    return descriptor;
  };
}
