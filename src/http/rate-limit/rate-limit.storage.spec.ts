import { MAX_LOCAL_KEYS, RateLimitStorage } from './rate-limit.storage';

function localStorage(): RateLimitStorage {
  const noRedis = { enabled: false } as never;
  return new RateLimitStorage(noRedis, { rateLimit: { redisFailure: 'local' } } as never);
}

describe('RateLimitStorage (local)', () => {
  it('answers @nestjs/throttler records: hits counted, blocked past the limit with a retry time', async () => {
    const sut = localStorage();
    try {
      const records = [];
      for (let i = 0; i < 3; i++) records.push(await sut.increment('k', 60_000, 2));

      expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect(records[2].timeToBlockExpire).toBeGreaterThan(0);
    } finally {
      sut.onModuleDestroy();
    }
  });

  it('counts at once without Redis, in the same counters as increment; with Redis it leaves counting to increment', async () => {
    const sut = localStorage();
    const withRedis = new RateLimitStorage({ enabled: true } as never, { rateLimit: { redisFailure: 'local' } } as never);
    try {
      expect(sut.incrementNow('k', 60_000, 2)?.totalHits).toBe(1);
      expect((await sut.increment('k', 60_000, 2)).totalHits).toBe(2);
      expect(sut.incrementNow('k', 60_000, 2)?.isBlocked).toBe(true);
      expect(withRedis.incrementNow('k', 60_000, 2)).toBeUndefined();
      expect(withRedis.size).toBe(0);
    } finally {
      sut.onModuleDestroy();
      withRedis.onModuleDestroy();
    }
  });

  it('sweeps keys idle for two windows', () => {
    const sut = localStorage();
    try {
      sut.incrementLocal('old', 1_000, 10, 10_000);
      sut.incrementLocal('recent', 1_000, 10, 12_500);
      sut.sweep(12_600);

      expect(sut.size).toBe(1);
    } finally {
      sut.onModuleDestroy();
    }
  });

  it('stays bounded whatever the number of distinct clients', () => {
    const sut = localStorage();
    try {
      for (let i = 0; i < MAX_LOCAL_KEYS + 1000; i++) sut.incrementLocal(`ip:${i}`, 60_000, 10, 1_000);

      expect(sut.size).toBeLessThanOrEqual(MAX_LOCAL_KEYS);
    } finally {
      sut.onModuleDestroy();
    }
  });
});
