import KeyvRedis from '@keyv/redis';
import { Cache, createCache } from 'cache-manager';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import type { RedisConnection } from './redis-connection';
import { jitteredTtl } from './cache-key';
import type { TagVersions, VersionSnapshot } from './tag-versions';

/** What is stored: the value and the versions its tags had when its load began. */
interface Entry<V> {
  readonly v: V;
  readonly t: number[];
  readonly s: number;
}

/** An L1 entry as Keyv hands it to its store: the entry and when it stops being fresh. */
interface Stored<V> {
  readonly value: Entry<V>;
  readonly expires: number;
}

export interface CacheStatsSnapshot {
  readonly cache: string;
  readonly hits: number;
  readonly misses: number;
  readonly loads: number;
  readonly evictions: number;
  readonly errors: number;
  readonly size: number;
  /** Estimated bytes held in L1 (see TieredCacheOptions.sizeOf), and the most it may hold. */
  readonly bytes: number;
  readonly max_bytes: number;
  /** Loaded values not cached at all because they exceed the per-entry cap. */
  readonly oversize_skipped: number;
  readonly hit_ratio: number;
  /** Expired entries served because reloading them failed (see TieredCacheOptions.staleMs). */
  readonly stale_served: number;
}

export type CacheSource = 'l1' | 'l2' | 'load' | 'shared' | 'stale';

export interface TieredCacheOptions<V> {
  readonly name: string;
  /** The default TTL, and the longest: the tag versions in Redis are kept just longer than that. */
  readonly ttlMs: number;
  /**
   * How long past its TTL an entry is kept in L1 to be served when reloading it fails in a way
   * `serveStaleOn` accepts (the database unavailable, say). Invalidated entries are never served.
   */
  readonly staleMs: number;
  readonly serveStaleOn: (err: unknown) => boolean;
  readonly l1MaxEntries: number;
  readonly l1MaxBytes: number;
  /** Larger values are served but cached in neither tier. */
  readonly maxEntryBytes: number;
  /**
   * Bytes a value may take in V8, computed once when it is stored: a string costs up to 2 bytes per
   * UTF-16 unit, so 2 x length is an upper bound that needs no scan of the content.
   */
  readonly sizeOf: (value: V) => number;
  readonly namespace: string;
  readonly versions: TagVersions;
  readonly redis: RedisConnection;
  /**
   * Loads may read a replica up to this far behind the primary (0: they read the primary). A value
   * loaded within this long after one of its tags was bumped may lack that write, so it is kept only
   * until this long after the bump: a write shows in the cached answer as soon as it would in a
   * replica read.
   */
  readonly lagMs: number;
  /** Reads the versions of unconfirmed tags from Redis (shared mode); afterwards they may be confirmed. */
  readonly confirm: (tags: readonly string[]) => Promise<void>;
}

interface Inflight<V> {
  readonly promise: Promise<V>;
  readonly snapshot: VersionSnapshot;
}

// The entry, its version array, Keyv's wrapper and lru-cache's per-slot bookkeeping and timer.
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * lru-cache as a Keyv store, bounded by entries and by bytes. An entry is kept `staleMs` past its
 * TTL for stale answers; lru-cache frees it when that ends, one timer per entry (ttlAutopurge):
 * no scan over the cache, whose cost grows with its size (purgeStale: 185 ms at 1 M entries).
 */
class L1Store<V> {
  /** Set by Keyv; the keys here are not prefixed. */
  namespace: string | undefined;
  readonly lru: LRUCache<string, Stored<V>>;
  private readonly staleMs: number;

  constructor(
    o: TieredCacheOptions<V>,
    private readonly bytesOf: (key: string, entry: Entry<V>) => number,
    onEvict: () => void,
  ) {
    this.lru = new LRUCache<string, Stored<V>>({
      max: o.l1MaxEntries,
      maxSize: o.l1MaxBytes,
      maxEntrySize: o.maxEntryBytes,
      ttlAutopurge: true,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') onEvict();
      },
    });
    this.staleMs = o.staleMs;
  }

  get(key: string): Stored<V> | undefined {
    return this.lru.get(key);
  }

  set(key: string, stored: Stored<V>, ttl: number): boolean {
    this.lru.set(key, stored, { ttl: ttl + this.staleMs, size: this.bytesOf(key, stored.value) });
    return true;
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * A named cache through cache-manager: an LRU in memory (L1, bounded by entries and bytes) and,
 * with REDIS_URL, Redis (L2) via Keyv. Reads: L1 (synchronously, for the hot path), then L2
 * (filling L1), then the loader, one loader per key at a time. An entry is trusted only while the
 * versions of its tags are current and, with Redis, confirmed (see TagVersions); a value larger
 * than the per-entry cap is answered but never stored. Redis trouble is counted and answered from
 * PostgreSQL; it never fails a read.
 */
export class TieredCache<V> {
  private readonly l1: L1Store<V>;
  private readonly manager: Cache;
  private readonly l2: Keyv | undefined;
  private readonly inflight = new Map<string, Inflight<{ value: V | undefined; source: CacheSource }>>();
  private hits = 0;
  private misses = 0;
  private loads = 0;
  private evictions = 0;
  private errors = 0;
  private staleServed = 0;
  private oversize = 0;

  constructor(private readonly o: TieredCacheOptions<V>) {
    this.l1 = new L1Store(o, (key, entry) => this.bytesOf(key, entry), () => this.evictions++);
    // Keyv hands values to the L1 store as they are (no serialization).
    const stores = [new Keyv({ store: this.l1, serialize: undefined, deserialize: undefined, useKeyPrefix: false })];
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
    const stored = this.l1.lru.get(key);
    if (stored !== undefined && stored.expires > Date.now() && this.o.versions.isCurrent(tags, stored.value.t, stored.value.s)) {
      this.hits++;
      return stored.value.v;
    }
    return undefined;
  }

  /**
   * The value for `key`: from L1, L2 or `load`. Tags not confirmed yet are read from Redis first.
   * Concurrent callers share one load, unless a write bumped a tag since that load began (its
   * result would already be stale). TTLs are capped at the cache's TTL.
   */
  async getOrLoad(
    key: string,
    tags: readonly string[],
    load: () => Promise<V | undefined>,
    ttlMs = this.o.ttlMs,
  ): Promise<{ value: V | undefined; source: CacheSource }> {
    const cached = this.peek(key, tags);
    if (cached !== undefined) return { value: cached, source: 'l1' };
    if (!this.o.versions.confirmed(tags)) {
      await this.o.confirm(tags);
      const confirmed = this.peek(key, tags);
      if (confirmed !== undefined) return { value: confirmed, source: 'l1' };
    }

    const running = this.inflight.get(key);
    if (running && this.o.versions.unchanged(tags, running.snapshot.t)) {
      this.misses++;
      const { value, source } = await running.promise;
      return { value, source: source === 'stale' ? 'stale' : 'shared' };
    }

    const snapshot = this.o.versions.snapshot(tags);
    const promise = this.fill(key, tags, snapshot, load, Math.min(ttlMs, this.o.ttlMs));
    const entry = { promise, snapshot };
    this.inflight.set(key, entry);
    try {
      return await promise;
    } finally {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    }
  }

  /** Empties L1 only. */
  clearLocal(): void {
    this.l1.clear();
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
      size: this.l1.lru.size,
      bytes: this.l1.lru.calculatedSize,
      max_bytes: this.o.l1MaxBytes,
      oversize_skipped: this.oversize,
      hit_ratio: requests === 0 ? 0 : Math.round((this.hits / requests) * 10_000) / 10_000,
      stale_served: this.staleServed,
    };
  }

  private async fill(
    key: string,
    tags: readonly string[],
    snapshot: VersionSnapshot,
    load: () => Promise<V | undefined>,
    ttlMs: number,
  ): Promise<{ value: V | undefined; source: CacheSource }> {
    const began = this.o.lagMs > 0 ? Date.now() : 0;
    // An untrusted snapshot (Redis unreachable, say) could not tell a current L2 entry from a stale one.
    if (this.l2 && snapshot.trusted) {
      const fromL2 = await this.readL2(key, tags);
      if (fromL2 !== undefined) {
        this.hits++;
        // Stored by an instance that learned the same bumps within the time a message takes.
        const ttl = this.ttlAfter(tags, began, ttlMs);
        if (ttl > 0) this.storeL1(key, fromL2, ttl);
        return { value: fromL2.v, source: 'l2' };
      }
    }
    this.misses++;
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
    if (value !== undefined && snapshot.trusted && this.o.versions.isCurrent(tags, snapshot.t, snapshot.s)) {
      const ttl = this.ttlAfter(tags, began, ttlMs);
      if (ttl > 0) await this.store(key, { v: value, t: snapshot.t, s: snapshot.s }, ttl);
    }
    return { value, source: 'load' };
  }

  /**
   * The TTL of a value whose fill began at `began`: in full, unless it began within `lagMs` after a
   * bump of one of its tags; then only until `lagMs` after that bump (not above 0 once that has passed: not stored).
   */
  private ttlAfter(tags: readonly string[], began: number, ttlMs: number): number {
    const full = jitteredTtl(ttlMs);
    if (this.o.lagMs === 0) return full;
    const settled = this.o.versions.lastBumpAt(tags) + this.o.lagMs;
    return began >= settled ? full : Math.min(full, settled - Date.now());
  }

  private async store(key: string, entry: Entry<V>, ttl: number): Promise<void> {
    if (this.bytesOf(key, entry) > this.o.maxEntryBytes) {
      this.oversize++;
      return;
    }
    if (this.l2 && this.o.redis.ready) {
      // cache-manager writes both tiers; the L1 write happens at once, so it holds even if Redis fails.
      await this.o.redis.call(() => this.manager.set(key, entry, ttl)).catch((err) => this.noteError(err));
    } else {
      this.storeL1(key, entry, ttl);
    }
  }

  private async readL2(key: string, tags: readonly string[]): Promise<Entry<V> | undefined> {
    if (!this.o.redis.ready) return undefined;
    try {
      const entry = (await this.o.redis.call(() => this.l2!.get<Entry<V>>(key))) as Entry<V> | undefined;
      return entry !== undefined && this.o.versions.isCurrent(tags, entry.t, entry.s) ? entry : undefined;
    } catch (err) {
      this.noteError(err);
      return undefined;
    }
  }

  /** Same shape as Keyv stores it, so peek() reads entries from either path alike. */
  private storeL1(key: string, entry: Entry<V>, ttl: number): void {
    this.l1.set(key, { value: entry, expires: Date.now() + ttl }, ttl);
  }

  /** An expired L1 entry that no write has invalidated since its load began. */
  private staleEntry(key: string, tags: readonly string[]): V | undefined {
    const stored = this.l1.lru.get(key);
    return stored !== undefined && this.o.versions.isCurrent(tags, stored.value.t, stored.value.s) ? stored.value.v : undefined;
  }

  private bytesOf(key: string, entry: Entry<V>): number {
    return ENTRY_OVERHEAD_BYTES + 2 * key.length + 8 * entry.t.length + this.o.sizeOf(entry.v);
  }

  private noteError(_err: unknown): void {
    this.errors++;
  }
}
