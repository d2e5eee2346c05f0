import { AppConfig } from '../config/app-config';
import { WorkerChannel } from '../cluster/worker-channel';
import { CacheService } from './cache.service';
import { RedisConnection } from './redis-connection';

describe('CacheService.create', () => {
  const config = AppConfig.fromEnv({ CACHE_TTL_MS: '10000', TOKEN_CACHE_TTL_MS: '20000' });
  let sut: CacheService;

  beforeEach(() => {
    sut = new CacheService(config, new RedisConnection(config), WorkerChannel.shared());
  });

  afterEach(() => sut.onModuleDestroy());

  it('gives a feature a cache of its own, listed after the response cache and flushed with it', async () => {
    const feature = sut.create<string>({ name: 'feature', l1Share: 1 / 8, sizeOf: (v) => 2 * v.length });
    await feature.getOrLoad('k', ['t'], async () => 'v');

    expect(sut.stats().map((s) => s.cache)).toEqual(['http', 'feature']);
    expect(feature.peek('k', ['t'])).toBe('v');
    await sut.flush();
    expect(feature.peek('k', ['t'])).toBeUndefined();
  });

  it('makes a feature cache entry stale when one of its tags is invalidated', async () => {
    const feature = sut.create<string>({ name: 'feature', l1Share: 1 / 8, sizeOf: (v) => 2 * v.length });
    await feature.getOrLoad('k', ['a', 'b'], async () => 'v');

    await sut.invalidate(['b']);

    expect(feature.peek('k', ['a', 'b'])).toBeUndefined();
  });

  it('refuses a TTL longer than the configured ones, which the tag versions would not outlive', () => {
    expect(() => sut.create({ name: 'long', ttlMs: 20_001, l1Share: 1 / 8, sizeOf: () => 0 })).toThrow('cache long: a TTL of 20001 ms outlives the tag versions (20000 ms at most)');
  });
});
