import { CacheableMemory, createKeyv } from '@cacheable/memory';
import KeyvRedis from '@keyv/redis';
import { Cache, createCache } from 'cache-manager';
import Keyv from 'keyv';
import type { RedisConnection } from './redis-connection';
import { jitteredTtl } from './cache-key';
import type { TagVersions } from './tag-versions';

/** What is stored: the value and the versions its tags had when its load began. */
interface Entry<V> {
  readonly v: V;
  readonly t: number[];
}

export interface CacheStatsSnapshot {
  readonly cache: string;
  readonly hits: number;
  readonly misses: number;
  readonly loads: number;
  readonly evictions: number;
  readonly errors: number;
  readonly size: number;
  readonly hit_ratio: number;
  /** Expired entries served because reloading them failed (see TieredCacheOptions.staleMs). */
  readonly stale_served: number;
}

export type CacheSource = 'l1' | 'l2' | 'load' | 'shared' | 'stale';

export interface TieredCacheOptions {
  readonly name: string;
  readonly ttlMs: number;
  /**
   * How long past its TTL an entry is kept in L1 to be served when reloading it fails in a way
   * `serveStaleOn` accepts (the database unavailable, say). Invalidated entries are never served.
   */
  readonly staleMs: number;
  readonly serveStaleOn: (err: unknown) => boolean;
  readonly l1MaxEntries: number;
  readonly namespace: string;
  readonly versions: TagVersions;
  readonly redis: RedisConnection;
  /** Fetches the current versions of tags from Redis (after a mismatch on an L2 entry). */
  readonly syncVersions: (tags: readonly string[]) => Promise<void>;
}

interface Inflight<V> {
  readonly promise: Promise<V>;
  readonly snapshot: number[];
}

/**
 * A named cache through cache-manager: an LRU in memory (L1, bounded by entries) and, with
 * REDIS_URL, Redis (L2) via Keyv. Reads: L1 (synchronously, for the hot path), then L2 (filling
 * L1), then the loader, one loader per key at a time. Redis trouble is counted and answered from
 * L1 and the loader; it never fails a read.
 */
export class TieredCache<V> {
  private readonly l1: CacheableMemory;
  private readonly manager: Cache;
  private readonly l2: Keyv | undefined;
  private readonly inflight = new Map<string, Inflight<{ value: V | undefined; source: CacheSource }>>();
  private hits = 0;
  private misses = 0;
  private loads = 0;
  private evictions = 0;
  private errors = 0;
  private staleServed = 0;

  constructor(private readonly o: TieredCacheOptions) {
    // Keyv hands values to this store as they are (no serialization); one hash bucket avoids
    // hashing every key on the hot path.
    const l1 = createKeyv({ lruSize: o.l1MaxEntries, useClone: false, storeHashSize: 1 });
    this.l1 = (l1.store as { store: CacheableMemory }).store;
    const stores = [l1];
    if (o.redis.client) {
      this.l2 = new Keyv({ store: new KeyvRedis(o.redis.client as never), namespace: `${o.namespace}:${o.name}`, useKeyPrefix: false });
      this.l2.on('error', (err) => {
        o.redis.noteError(err);
        this.noteError(err);
      });
      stores.push(this.l2);
    }
    this.manager = createCache({ stores });
  }

  /** L1 only, synchronous: a hit costs a map lookup and a version check per tag. */
  peek(key: string, tags: readonly string[]): V | undefined {
    const raw = this.l1.get<{ value: Entry<V>; expires?: number }>(key);
    if (raw !== undefined && (raw.expires === undefined || raw.expires > Date.now()) && this.o.versions.matches(tags, raw.value.t)) {
      this.count(true);
      return raw.value.v;
    }
    return undefined;
  }

  /**
   * The value for `key`: from L1, L2 or `load`. Concurrent callers share one load, unless a
   * write bumped a tag since that load began (its result would already be stale).
   */
  async getOrLoad(
    key: string,
    tags: readonly string[],
    load: () => Promise<V | undefined>,
    ttlMs = this.o.ttlMs,
  ): Promise<{ value: V | undefined; source: CacheSource }> {
    const cached = this.peek(key, tags);
    if (cached !== undefined) return { value: cached, source: 'l1' };

    const running = this.inflight.get(key);
    if (running && this.o.versions.matches(tags, running.snapshot)) {
      this.count(false);
      const { value, source } = await running.promise;
      return { value, source: source === 'stale' ? 'stale' : 'shared' };
    }

    const snapshot = this.o.versions.snapshot(tags);
    const promise = this.fill(key, tags, snapshot, load, ttlMs);
    const entry = { promise, snapshot };
    this.inflight.set(key, entry);
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    }
  }

  async clear(): Promise<void> {
    this.l1.clear();
    if (this.l2 && this.o.redis.ready) await this.o.redis.call(() => this.l2!.clear()).catch((err) => this.noteError(err));
  }

  stats(): CacheStatsSnapshot {
    const requests = this.hits + this.misses;
    return {
      cache: this.o.name,
      hits: this.hits,
      misses: this.misses,
      loads: this.loads,
      evictions: this.evictions,
      errors: this.errors,
      size: this.l1.size,
      hit_ratio: requests === 0 ? 0 : Math.round((this.hits / requests) * 10_000) / 10_000,
      stale_served: this.staleServed,
    };
  }

  private async fill(
    key: string,
    tags: readonly string[],
    snapshot: number[],
    load: () => Promise<V | undefined>,
    ttlMs: number,
  ): Promise<{ value: V | undefined; source: CacheSource }> {
    if (this.l2) {
      const fromL2 = await this.readL2(key, tags);
      if (fromL2 !== undefined) {
        this.count(true);
        this.storeL1(key, fromL2, jitteredTtl(ttlMs));
        return { value: fromL2.v, source: 'l2' };
      }
    }
    this.count(false);
    this.loads++;
    let value: V | undefined;
    try {
      value = await load();
    } catch (err) {
      const stale = this.o.staleMs > 0 && this.o.serveStaleOn(err) ? this.staleEntry(key, tags) : undefined;
      if (stale === undefined) throw err;
      this.staleServed++;
      return { value: stale, source: 'stale' };
    }
    // undefined means "nothing to cache" (e.g. an unknown token): the next call asks again.
    if (value !== undefined && this.o.versions.matches(tags, snapshot)) {
      const entry: Entry<V> = { v: value, t: snapshot };
      const ttl = jitteredTtl(ttlMs);
      if (this.l2 && this.o.redis.ready) {
        this.countEviction(key);
        // cache-manager writes both tiers; if Redis fails, L1 still gets the entry.
        await this.o.redis.call(() => this.manager.set(key, entry, ttl)).catch((err) => this.noteError(err));
        // cache-manager gave L1 the plain TTL; L1 keeps the entry for the stale window too.
        this.storeL1(key, entry, ttl);
      } else {
        this.storeL1(key, entry, ttl);
      }
    }
    return { value, source: 'load' };
  }

  private async readL2(key: string, tags: readonly string[]): Promise<Entry<V> | undefined> {
    if (!this.o.redis.ready) return undefined;
    try {
      const entry = (await this.o.redis.call(() => this.l2!.get<Entry<V>>(key))) as Entry<V> | undefined;
      if (entry === undefined) return undefined;
      if (this.o.versions.matches(tags, entry.t)) return entry;
      // This instance may have missed invalidations (just started, or a Redis blip): ask Redis.
      await this.o.syncVersions(tags);
      return this.o.versions.matches(tags, entry.t) ? entry : undefined;
    } catch (err) {
      this.noteError(err);
      return undefined;
    }
  }

  /**
   * Same shape as Keyv stores it, so peek() reads entries from either path alike. `expires` is when
   * the entry stops being fresh; the LRU keeps it `staleMs` longer for staleEntry().
   */
  private storeL1(key: string, entry: Entry<V>, ttl: number): void {
    this.countEviction(key);
    this.l1.set(key, { value: entry, expires: Date.now() + ttl }, ttl + this.o.staleMs);
  }

  /** An expired L1 entry that no write has invalidated since its load began. */
  private staleEntry(key: string, tags: readonly string[]): V | undefined {
    const raw = this.l1.get<{ value: Entry<V> }>(key);
    return raw !== undefined && this.o.versions.matches(tags, raw.value.t) ? raw.value.v : undefined;
  }

  /** The LRU evicts its oldest entry when a new key arrives at capacity. */
  private countEviction(key: string): void {
    if (this.l1.size >= this.o.l1MaxEntries && !this.l1.has(key)) {
      this.evictions++;
    }
  }

  private count(hit: boolean): void {
    if (hit) this.hits++;
    else this.misses++;
  }

  private noteError(_err: unknown): void {
    this.errors++;
  }
}
