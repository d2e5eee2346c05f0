import { MAX_OPERATIONS, mergeTimings, percentile, PerformanceMonitor, RESERVOIR_SIZE, Timed, performanceMonitor } from './performance-monitor';

describe('percentile (nearest rank)', () => {
  it('picks the value at or above the quantile', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);

    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBe(0);
  });
});

describe('PerformanceMonitor', () => {
  it('keeps exact count, total, min, max and average', () => {
    const sut = new PerformanceMonitor();
    for (const ms of [5, 1, 3]) sut.record('op', ms);

    expect(sut.stats('op')).toMatchObject({ count: 3, total: 9, min: 1, max: 5, avg: 3 });
    expect(sut.stats('unknown')).toBeUndefined();
  });

  it('stays bounded after 100k timings, with percentiles over the recent window', () => {
    const sut = new PerformanceMonitor();
    for (let i = 0; i < 100_000; i++) sut.record('op', i < 99_000 ? 1000 : 1);

    const stats = sut.stats('op')!;
    expect(stats.count).toBe(100_000);
    // The window holds the last 1024 samples: 1000 of 1 ms, then 24 (2.3 %) of 1000 ms.
    expect(stats.p95).toBe(1);
    expect(stats.p99).toBe(1000);
    expect(stats.max).toBe(1000);
    expect(RESERVOIR_SIZE).toBe(1024);
  });

  it('tracks at most MAX_OPERATIONS names and counts what it drops', () => {
    const sut = new PerformanceMonitor();
    for (let i = 0; i < MAX_OPERATIONS + 5; i++) sut.record(`op${i}`, 1);

    expect(sut.operations).toBe(MAX_OPERATIONS);
    expect(sut.dropped).toBe(5);
  });

  it('resets everything', () => {
    const sut = new PerformanceMonitor();
    sut.record('op', 1);
    sut.reset();

    expect(sut.all()).toEqual({});
  });
});

describe('@Timed', () => {
  class Service {
    @Timed('test.work')
    async work(fail: boolean): Promise<string> {
      if (fail) throw new Error('no');
      return 'ok';
    }
  }

  it('records successful and failing calls under its name and keeps the result', async () => {
    performanceMonitor.reset();
    const sut = new Service();

    await expect(sut.work(false)).resolves.toBe('ok');
    await expect(sut.work(true)).rejects.toThrow('no');

    expect(performanceMonitor.stats('test.work')?.count).toBe(2);
  });
});

describe('mergeTimings (the workers of a cluster as one)', () => {
  it('sums counts and totals, keeps the extremes, and bounds each percentile by the highest worker', () => {
    const a = new PerformanceMonitor();
    const b = new PerformanceMonitor();
    for (const ms of [1, 2, 3]) a.record('GET /x', ms);
    for (const ms of [10, 20]) b.record('GET /x', ms);
    b.record('POST /y', 4);

    const sut = mergeTimings([a.all(), b.all()]);

    expect(sut['GET /x']).toMatchObject({ count: 5, total: 36, min: 1, max: 20, avg: 7.2 });
    expect(sut['GET /x'].p99).toBe(b.stats('GET /x')!.p99);
    expect(sut['POST /y']).toEqual(b.stats('POST /y'));
    expect(mergeTimings([])).toEqual({});
  });
});
