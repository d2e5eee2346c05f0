/**
 * The bench's summaries of its measurements, kept free of I/O so they can be unit tested
 * (stats.spec.ts); the plain statistics they use are in tools/shared/stats.ts.
 */
import { mean, median, percentile, ratio, sortedCopy } from '../shared/stats';


/**
 * Rounds measured A/B in the same run, interleaved (A B A B ...): the ratio of each round, then
 * their median. Pairs with a missing side are skipped. This cancels slow drifts (another process
 * starting, thermal changes) better than the ratio of two medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): { ratios: number[]; median: number } {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = ratio(a[i], b[i]);
    if (Number.isFinite(r)) ratios.push(r);
  }
  return { ratios, median: median(ratios) };
}

export interface LatencySummary {
  readonly count: number;
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Latencies in ms, in any order. */
export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const data = sortedCopy(samples);
  return {
    count: data.length,
    avg: mean(data),
    p50: percentile(data, 50, true),
    p95: percentile(data, 95, true),
    p99: percentile(data, 99, true),
    max: data.length === 0 ? Number.NaN : data[data.length - 1],
  };
}

/** What one load run measured. */
export interface RunStats {
  readonly reqPerSec: number;
  readonly latency: LatencySummary;
  readonly responses: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  /** Connection errors and timeouts together (autocannon's `errors`). */
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly seconds: number;
  /** CPU time the server used over the run, per response (µs), when it was measured. */
  readonly cpuUsPerResponse?: number;
}

/** Several rounds of the same measurement: medians of rates and latencies, sums of counts. */
export interface RoundsSummary {
  readonly rounds: number;
  readonly reqPerSec: number;
  readonly reqPerSecRounds: number[];
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly responses: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** Median over the rounds that measured it; undefined when none did. */
  readonly cpuUsPerResponse?: number;
}

export function summarizeRounds(runs: readonly RunStats[]): RoundsSummary {
  const pick = (f: (r: RunStats) => number) => median(runs.map(f));
  const sum = (f: (r: RunStats) => number) => runs.reduce((acc, r) => acc + f(r), 0);
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const cpu = runs.map((r) => r.cpuUsPerResponse).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return {
    rounds: runs.length,
    reqPerSec: pick((r) => r.reqPerSec),
    reqPerSecRounds: runs.map((r) => r.reqPerSec),
    avg: pick((r) => r.latency.avg),
    p50: pick((r) => r.latency.p50),
    p95: pick((r) => r.latency.p95),
    p99: pick((r) => r.latency.p99),
    max: Math.max(...runs.map((r) => r.latency.max)),
    responses: sum((r) => r.responses),
    ok2xx: sum((r) => r.ok2xx),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
    cpuUsPerResponse: cpu.length > 0 ? median(cpu) : undefined,
  };
}

/** A numeric target: `value op bound`. */
export interface Target {
  readonly op: '>=' | '<=' | '<' | '>' | '==';
  readonly bound: number;
}

export function meets(value: number, target: Target): boolean {
  if (!Number.isFinite(value)) return false;
  switch (target.op) {
    case '>=':
      return value >= target.bound;
    case '<=':
      return value <= target.bound;
    case '<':
      return value < target.bound;
    case '>':
      return value > target.bound;
    case '==':
      return value === target.bound;
  }
}
