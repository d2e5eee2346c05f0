import { meets, median, pairedRatio, percentile, ratio, RunStats, summarizeLatencies, summarizeRounds } from '../../bench/stats';

function run(reqPerSec: number, p50: number, extra: Partial<RunStats> = {}): RunStats {
  return {
    reqPerSec,
    latency: { count: 10, avg: p50, p50, p95: p50 * 2, p99: p50 * 3, max: p50 * 4 },
    responses: 10,
    ok2xx: 10,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    statusCodes: { 200: 10 },
    seconds: 1,
    ...extra,
  };
}

describe('bench statistics', () => {
  describe('median', () => {
    it('is the middle value of an odd count, in any order', () => {
      expect(median([5, 1, 3])).toBe(3);
      expect(median([7])).toBe(7);
    });

    it('is the mean of the two middle values of an even count', () => {
      expect(median([4, 1, 3, 2])).toBe(2.5);
    });

    it('is NaN for no values and does not reorder its input', () => {
      expect(median([])).toBeNaN();
      const input = [3, 1, 2];
      median(input);
      expect(input).toEqual([3, 1, 2]);
    });
  });

  describe('percentile', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

    it('interpolates linearly between closest ranks (numpy default)', () => {
      expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5, 10);
      expect(percentile(oneToHundred, 95)).toBeCloseTo(95.05, 10);
      expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01, 10);
      expect(percentile([10, 20, 30, 40], 25)).toBeCloseTo(17.5, 10);
    });

    it('has the minimum at p0 and the maximum at p100', () => {
      expect(percentile([9, 2, 7], 0)).toBe(2);
      expect(percentile([9, 2, 7], 100)).toBe(9);
    });

    it('is the value itself for one sample, NaN for none', () => {
      expect(percentile([4.2], 99)).toBe(4.2);
      expect(percentile([], 50)).toBeNaN();
    });

    it('sorts numerically, not as text', () => {
      expect(percentile([100, 9, 20], 50)).toBe(20);
    });

    it('refuses a percentile outside 0..100', () => {
      expect(() => percentile([1], 101)).toThrow(RangeError);
      expect(() => percentile([1], -1)).toThrow(RangeError);
    });
  });

  describe('summarizeLatencies', () => {
    it('reports count, average, p50/p95/p99 and the maximum', () => {
      const samples = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i);
      expect(summarizeLatencies(samples)).toEqual({
        count: 1000,
        avg: 500.5,
        p50: 500.5,
        p95: expect.closeTo(950.05, 8),
        p99: expect.closeTo(990.01, 8),
        max: 1000,
      });
    });
  });

  describe('ratio', () => {
    it('divides, and is NaN when the denominator is not a positive number', () => {
      expect(ratio(6000, 10000)).toBeCloseTo(0.6, 12);
      expect(ratio(1, 0)).toBeNaN();
      expect(ratio(1, -2)).toBeNaN();
      expect(ratio(Number.NaN, 1)).toBeNaN();
    });

    it('pairs interleaved rounds and takes the median of their ratios', () => {
      // Round 2 ran while something else loaded the machine: both sides slow, ratio unchanged.
      const { ratios, median: m } = pairedRatio([800, 400, 900], [1000, 500, 1000]);
      expect(ratios).toEqual([0.8, 0.8, 0.9]);
      expect(m).toBe(0.8);
    });

    it('skips pairs with a missing or zero side', () => {
      expect(pairedRatio([1, 2, 3], [2, 0]).ratios).toEqual([0.5]);
      expect(pairedRatio([], []).median).toBeNaN();
    });
  });

  describe('summarizeRounds', () => {
    it('takes medians of rates and latencies and sums the counts', () => {
      const s = summarizeRounds([
        run(1000, 5, { errors: 1, statusCodes: { 200: 9, 503: 1 }, non2xx: 1 }),
        run(3000, 1),
        run(2000, 3, { timeouts: 2, errors: 2 }),
      ]);
      expect(s.rounds).toBe(3);
      expect(s.reqPerSec).toBe(2000);
      expect(s.reqPerSecRounds).toEqual([1000, 3000, 2000]);
      expect(s.p50).toBe(3);
      expect(s.p95).toBe(6);
      expect(s.p99).toBe(9);
      expect(s.max).toBe(20);
      expect(s.errors).toBe(3);
      expect(s.timeouts).toBe(2);
      expect(s.non2xx).toBe(1);
      expect(s.statusCodes).toEqual({ 200: 29, 503: 1 });
      expect(s.cpuUsPerResponse).toBeUndefined();
    });

    it('takes the median server CPU per response over the rounds that measured it', () => {
      const s = summarizeRounds([run(1000, 5, { cpuUsPerResponse: 40 }), run(1000, 5), run(1000, 5, { cpuUsPerResponse: 30 }), run(1000, 5, { cpuUsPerResponse: 35 })]);
      expect(s.cpuUsPerResponse).toBe(35);
    });
  });

  describe('meets', () => {
    it('compares against a bound and never passes NaN', () => {
      expect(meets(0.6, { op: '>=', bound: 0.6 })).toBe(true);
      expect(meets(0.59, { op: '>=', bound: 0.6 })).toBe(false);
      expect(meets(19.9, { op: '<', bound: 20 })).toBe(true);
      expect(meets(20, { op: '<', bound: 20 })).toBe(false);
      expect(meets(Number.NaN, { op: '<=', bound: 1 })).toBe(false);
    });
  });
});
