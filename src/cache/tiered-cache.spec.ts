import { NotFoundException } from '@nestjs/common';
import { isDatabaseUnavailable, PoolTimeoutError } from '../database/database.errors';
import type { RedisConnection } from './redis-connection';
import { TagVersions } from './tag-versions';
import { TieredCache, TieredCacheOptions } from './tiered-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// No REDIS_URL: L1 only.
const noRedis = { client: undefined, ready: false } as unknown as RedisConnection;

function make(overrides: Partial<TieredCacheOptions<string>> = {}) {
  const versions = overrides.versions ?? new TagVersions({ shared: false, maxTags: 1_000, entryLifeMs: 60_000, bumpMemoryMs: 0 });
  const cache = new TieredCache<string>({
    name: 'test',
    ttlMs: 20,
    staleMs: 0,
    serveStaleOn: isDatabaseUnavailable,
    l1MaxEntries: 100,
    l1MaxBytes: 1024 * 1024,
    maxEntryBytes: 256 * 1024,
    sizeOf: (v) => 2 * v.length,
    namespace: 'test',
    versions,
    redis: noRedis,
    confirm: async () => undefined,
    lagMs: 0,
    ...overrides,
  });
  return { cache, versions };
}

describe('TieredCache stale entries', () => {
  it('answers an expired entry when reloading fails because the database is unavailable', async () => {
    const { cache } = make({ staleMs: 10_000 });
    await cache.getOrLoad('k', ['t'], async () => 'v1');
    await sleep(40);

    expect(cache.peek('k', ['t'])).toBeUndefined();
    await expect(cache.getOrLoad('k', ['t'], () => Promise.reject(new PoolTimeoutError(300)))).resolves.toEqual({ value: 'v1', source: 'stale' });
    expect(cache.stats().stale_served).toBe(1);
  });

  it('rethrows other failures, invalidated entries and everything once the stale window is off', async () => {
    const { cache, versions } = make({ staleMs: 10_000 });
    await cache.getOrLoad('a', ['t'], async () => 'v');
    await cache.getOrLoad('b', ['u'], async () => 'v');
    versions.bump('u');
    const off = make().cache;
    await off.getOrLoad('c', ['t'], async () => 'v');
    await sleep(40);

    await expect(cache.getOrLoad('a', ['t'], () => Promise.reject(new NotFoundException()))).rejects.toBeInstanceOf(NotFoundException);
    await expect(cache.getOrLoad('b', ['u'], () => Promise.reject(new PoolTimeoutError(300)))).rejects.toBeInstanceOf(PoolTimeoutError);
    await expect(off.getOrLoad('c', ['t'], () => Promise.reject(new PoolTimeoutError(300)))).rejects.toBeInstanceOf(PoolTimeoutError);
  });
});

describe('TieredCache bounds', () => {
  it('keeps L1 within its byte budget, evicting the least recently used', async () => {
    const { cache } = make({ ttlMs: 60_000, l1MaxBytes: 200_000, maxEntryBytes: 50_000 });
    const value = 'x'.repeat(10_000); // about 20 kB each

    for (let i = 0; i < 50; i++) await cache.getOrLoad(`k${i}`, ['t'], async () => value);

    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(200_000);
    expect(stats.bytes).toBeGreaterThan(150_000);
    expect(stats.evictions).toBeGreaterThan(35);
    expect(cache.peek('k0', ['t'])).toBeUndefined();
    expect(cache.peek('k49', ['t'])).toBe(value);
  });

  it('answers a value over the per-entry cap every time but caches it nowhere', async () => {
    const { cache } = make({ ttlMs: 60_000, maxEntryBytes: 10_000 });
    const big = 'x'.repeat(5_000); // 10 kB plus overhead
    let loads = 0;
    const load = async () => {
      loads++;
      return big;
    };

    expect(await cache.getOrLoad('k', ['t'], load)).toEqual({ value: big, source: 'load' });
    expect(await cache.getOrLoad('k', ['t'], load)).toEqual({ value: big, source: 'load' });
    expect(loads).toBe(2);
    expect(cache.stats()).toMatchObject({ size: 0, bytes: 0, oversize_skipped: 2 });
  });

  it('frees expired entries without anyone reading them', async () => {
    const { cache } = make({ ttlMs: 20 });
    for (let i = 0; i < 20; i++) await cache.getOrLoad(`k${i}`, ['t'], async () => 'v');
    expect(cache.stats().size).toBe(20);

    await sleep(80);

    expect(cache.stats()).toMatchObject({ size: 0, bytes: 0 });
  });
});

describe('TieredCache with shared versions (the Redis rule, without Redis)', () => {
  const sharedVersions = () => new TagVersions({ shared: true, maxTags: 1_000, entryLifeMs: 60_000, bumpMemoryMs: 0 });

  it('loads every time and stores nothing while the tags cannot be confirmed', async () => {
    const versions = sharedVersions();
    const { cache } = make({ ttlMs: 60_000, versions });
    let loads = 0;
    const load = async () => `v${++loads}`;

    await cache.getOrLoad('k', ['t'], load);
    await cache.getOrLoad('k', ['t'], load);

    expect(loads).toBe(2);
    expect(cache.stats().size).toBe(0);
  });

  it('confirms the tags before trusting L1, and trusts it again once confirmed', async () => {
    const versions = sharedVersions();
    versions.setLive(true);
    const redisSays = new Map<string, number>([['t', 4]]);
    const confirm = async (tags: readonly string[]) => {
      const batch = versions.beginConfirm(tags);
      if (batch) versions.endConfirm(batch, batch.tags.map((t) => redisSays.get(t) ?? 0));
    };
    const { cache } = make({ ttlMs: 60_000, versions, confirm });
    await cache.getOrLoad('k', ['t'], async () => 'old');
    expect(cache.peek('k', ['t'])).toBe('old');

    // The subscription drops and, meanwhile, another instance bumps the tag.
    versions.setLive(false);
    redisSays.set('t', 5);
    versions.setLive(true);

    expect(cache.peek('k', ['t'])).toBeUndefined();
    expect(await cache.getOrLoad('k', ['t'], async () => 'new')).toEqual({ value: 'new', source: 'load' });
    expect(cache.peek('k', ['t'])).toBe('new');
  });
});

describe('TieredCache whose loads may read a lagging replica (lagMs)', () => {
  const lagging = (lagMs: number, shared = false) => {
    const versions = new TagVersions({ shared, maxTags: 1_000, entryLifeMs: 60_000, bumpMemoryMs: lagMs });
    return make({ ttlMs: 60_000, lagMs, versions });
  };

  it('keeps a value loaded just after a bump of its tags only until the lag allowance after the bump has passed', async () => {
    const { cache, versions } = lagging(100);
    versions.bump('t');
    // The replica had not replayed the write yet: the list lacks it.
    await cache.getOrLoad('k', ['t'], async () => 'stale list');
    expect(cache.peek('k', ['t'])).toBe('stale list');

    await sleep(130);
    expect(cache.peek('k', ['t'])).toBeUndefined();
    // Loaded after the allowance: kept for the full TTL.
    await cache.getOrLoad('k', ['t'], async () => 'fresh list');
    await sleep(130);
    expect(cache.peek('k', ['t'])).toBe('fresh list');
  });

  it('keeps the full TTL for tags not bumped within the allowance, and for another tag’s bump', async () => {
    const { cache, versions } = lagging(100);
    versions.bump('other');
    await cache.getOrLoad('k', ['t'], async () => 'v');
    await sleep(130);
    expect(cache.peek('k', ['t'])).toBe('v');
  });

  it('does not store a value whose load began within the allowance but ended after it', async () => {
    const { cache, versions } = lagging(50);
    versions.bump('t');
    await cache.getOrLoad('k', ['t'], () => sleep(80).then(() => 'slow'));
    expect(cache.stats().size).toBe(0);
  });

  it('counts a bump another instance published (learned now) like one made here', async () => {
    const { cache, versions } = lagging(100, true);
    versions.setLive(true);
    const batch = versions.beginConfirm(['t'])!;
    versions.endConfirm(batch, [7]);
    await sleep(110); // the subscription went live more than an allowance ago
    versions.observe('t', 8);
    const snapshot = versions.snapshot(['t']);
    expect(snapshot.trusted).toBe(true);

    await cache.getOrLoad('k', ['t'], async () => 'stale list');
    expect(cache.peek('k', ['t'])).toBe('stale list');
    await sleep(130);
    expect(cache.peek('k', ['t'])).toBeUndefined();
  });

  it('changes nothing without replicas (lagMs 0)', async () => {
    const { cache, versions } = lagging(0);
    versions.bump('t');
    await cache.getOrLoad('k', ['t'], async () => 'v');
    await sleep(130);
    expect(cache.peek('k', ['t'])).toBe('v');
  });
});
