import { meets, pairedRatio, RunStats, summarizeLatencies, summarizeRounds } from './stats';

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

  describe('pairedRatio', () => {
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
