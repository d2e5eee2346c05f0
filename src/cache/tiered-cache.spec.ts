import { NotFoundException } from '@nestjs/common';
import { isDatabaseUnavailable, PoolTimeoutError } from '../database/database.errors';
import type { RedisConnection } from './redis-connection';
import { TagVersions } from './tag-versions';
import { TieredCache } from './tiered-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TieredCache stale entries', () => {
  const make = (staleMs: number) => {
    const versions = new TagVersions(60_000);
    const cache = new TieredCache<string>({
      name: 'test',
      ttlMs: 20,
      staleMs,
      serveStaleOn: isDatabaseUnavailable,
      l1MaxEntries: 100,
      namespace: 'test',
      versions,
      // No REDIS_URL: L1 only.
      redis: { client: undefined, ready: false } as unknown as RedisConnection,
      syncVersions: async () => undefined,
    });
    return { cache, versions };
  };

  it('answers an expired entry when reloading fails because the database is unavailable', async () => {
    const { cache } = make(10_000);
    await cache.getOrLoad('k', ['t'], async () => 'v1');
    await sleep(40);

    expect(cache.peek('k', ['t'])).toBeUndefined();
    await expect(cache.getOrLoad('k', ['t'], () => Promise.reject(new PoolTimeoutError(300)))).resolves.toEqual({ value: 'v1', source: 'stale' });
    expect(cache.stats().stale_served).toBe(1);
  });

  it('rethrows other failures, invalidated entries and everything once the stale window is off', async () => {
    const { cache, versions } = make(10_000);
    await cache.getOrLoad('a', ['t'], async () => 'v');
    await cache.getOrLoad('b', ['u'], async () => 'v');
    versions.bump('u');
    const off = make(0).cache;
    await off.getOrLoad('c', ['t'], async () => 'v');
    await sleep(40);

    await expect(cache.getOrLoad('a', ['t'], () => Promise.reject(new NotFoundException()))).rejects.toBeInstanceOf(NotFoundException);
    await expect(cache.getOrLoad('b', ['u'], () => Promise.reject(new PoolTimeoutError(300)))).rejects.toBeInstanceOf(PoolTimeoutError);
    await expect(off.getOrLoad('c', ['t'], () => Promise.reject(new PoolTimeoutError(300)))).rejects.toBeInstanceOf(PoolTimeoutError);
  });
});
