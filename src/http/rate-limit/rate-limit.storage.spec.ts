import { performance } from 'node:perf_hooks';
import { WorkerChannel } from '../../cluster/worker-channel';
import { MAX_LOCAL_KEYS, RateLimitStorage } from './rate-limit.storage';

function localStorage(): RateLimitStorage {
  const noRedis = { enabled: false } as never;
  return new RateLimitStorage(noRedis, { rateLimit: { redisFailure: 'local' } } as never, WorkerChannel.shared());
}

describe('RateLimitStorage (local)', () => {
  it('answers @nestjs/throttler records: hits counted, blocked past the limit with a retry time', async () => {
    const sut = localStorage();
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await sut.increment('k', 60_000, 2));
    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(records[2].timeToBlockExpire).toBeGreaterThan(0);
  });

  it('counts at once without Redis, in the same counters as increment; with Redis it leaves counting to increment', async () => {
    const sut = localStorage();
    const withRedis = new RateLimitStorage({ enabled: true } as never, { rateLimit: { redisFailure: 'local' } } as never, WorkerChannel.shared());
    expect(sut.incrementNow('k', 60_000, 2)?.totalHits).toBe(1);
    expect((await sut.increment('k', 60_000, 2)).totalHits).toBe(2);
    expect(sut.incrementNow('k', 60_000, 2)?.isBlocked).toBe(true);
    expect(withRedis.incrementNow('k', 60_000, 2)).toBeUndefined();
    expect(withRedis.size).toBe(0);
  });

  it('stays bounded whatever the number of distinct clients, dropping the key idle longest', () => {
    const sut = localStorage();
    sut.incrementLocal('busy', 60_000, 10, 1_000);
    for (let i = 0; i < MAX_LOCAL_KEYS + 1000; i++) {
      sut.incrementLocal(`ip:${i}`, 60_000, 10, 1_000);
      if (i % 1000 === 0) sut.incrementLocal('busy', 60_000, 1_000_000, 1_000);
    }
    expect(sut.size).toBe(MAX_LOCAL_KEYS);
    // 'busy' kept counting, so it was never the one dropped; the first scanned keys were.
    expect(sut.incrementLocal('busy', 60_000, 1_000_000, 1_000).totalHits).toBe(203);
    expect(sut.incrementLocal('ip:0', 60_000, 10, 1_000).totalHits).toBe(1);
  });

  it('admits a new key into a full map in constant time (no sweep per key)', () => {
    const sut = localStorage();
    for (let i = 0; i < MAX_LOCAL_KEYS; i++) sut.incrementLocal(`ip:${i}`, 60_000, 10, 1_000);
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) sut.incrementLocal(`new:${i}`, 60_000, 10, 1_000);
    const perKeyUs = ((performance.now() - started) * 1000) / 10_000;
    // A sweep of the full map took ~100 ms a key; an O(1) eviction is about a microsecond.
    expect(perKeyUs).toBeLessThan(100);
  });
});
