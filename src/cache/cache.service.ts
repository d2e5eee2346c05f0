import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { IPC, WorkerChannel } from '../cluster/worker-channel';
import { AppConfig } from '../config/app-config';
import { isDatabaseUnavailable } from '../database/database.errors';
import { jitteredTtl } from './cache-key';
import { RedisConnection } from './redis-connection';
import { BumpBatch, ConfirmBatch, TagVersions } from './tag-versions';
import { CacheStatsSnapshot, TieredCache } from './tiered-cache';

/** A cached HTTP response: the body already serialized, so a hit sends bytes as they are. */
export interface CachedResponse {
  readonly body: string;
  readonly etag: string;
}

/** A cache of the application's, as its owner declares it. */
export interface CacheSpec<V> {
  /** The `cache` label of its statistics and metrics. */
  readonly name: string;
  /** The default TTL, and the longest; CACHE_TTL_MS when not given. */
  readonly ttlMs?: number;
  /** Its share of CACHE_L1_MAX_BYTES. */
  readonly l1Share: number;
  /** An upper bound of a value's bytes in V8 (see TieredCacheOptions.sizeOf). */
  readonly sizeOf: (value: V) => number;
  /** Its loads may read a replica (PreparedSql.readLagTolerant): see TieredCacheOptions.lagMs. */
  readonly lagTolerant?: boolean;
}

/** Published on every bump: the tags and their new versions, and which instance bumped them. */
interface InvalidationMessage {
  readonly o: string;
  readonly t: string[];
  readonly v: number[];
}

export interface TagVersionStats {
  readonly shared: boolean;
  readonly tags: number;
  readonly max_tags: number;
  /** Bumps made here that Redis has not acknowledged yet, and those of them waiting for a retry. */
  readonly pending_bumps: number;
  readonly failed_bumps: number;
  readonly subscription_live: boolean;
}

// Bumps a set of tags and publishes their new versions in one atomic step. A version never
// repeats, even after its key expired: it is at least the Redis clock in ms, so an entry stored
// under an old version can never match a new one.
const BUMP_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out, tags = {}, {}
for i, key in ipairs(KEYS) do
  local v = (tonumber(redis.call('GET', key)) or 0) + 1
  if v < now then v = now end
  redis.call('SET', key, string.format('%d', v), 'PX', ARGV[1])
  out[i] = v
  tags[i] = ARGV[i + 3]
end
local vs = {}
for i, v in ipairs(out) do vs[i] = string.format('%d', v) end
redis.call('PUBLISH', ARGV[2], '{"o":' .. cjson.encode(ARGV[3]) .. ',"t":' .. cjson.encode(tags) .. ',"v":[' .. table.concat(vs, ',') .. ']}')
return out
`;

// How long a version key outlives the longest entry that could be checked against it.
const VERSION_KEY_MARGIN_MS = 5_000;
const SWEEP_MS = 1_000;
// Tags forgotten per sweep at most: a map of 100,000 tags empties in 20 s, 1-2 ms at a time.
const SWEEP_BUDGET = 5_000;
const RETRY_BATCH = 500;
// The response cache's share of CACHE_L1_MAX_BYTES; the features' caches share the rest.
const HTTP_SHARE = 3 / 4;

/**
 * The application's caches and their invalidation. Tags are opaque strings: the features declare
 * them (e.g. src/projects/project.cache.ts) and create their own caches here (`create`). A write calls `invalidate(tags)` before it
 * answers: locally that takes effect at once; with Redis the new tag versions are stored there and
 * published, so the other instances drop their L1 copies within milliseconds. With Redis, an
 * instance trusts an entry only once it has confirmed its tags' versions (see TagVersions).
 *
 * Cluster workers without Redis (WORKERS > 1) keep local versions each, and the primary is their
 * bus: `invalidate` bumps here, then waits until the primary reports that every other worker has
 * bumped the same tags, so no worker can answer from a stale entry once the write is answered.
 * Keeping the versions in the primary instead would cost an IPC round trip on every cache hit;
 * this costs one per write, and a hit stays a local map lookup. With Redis the workers are
 * instances like any other and the primary plays no part.
 */
@Injectable()
export class CacheService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CacheService.name);
  private readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly versions: TagVersions;
  private readonly versionTtlMs: number;
  private readonly confirming = new Map<string, Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;
  private retrying = false;
  /** Names the data set in Redis, so that one that lost its data (restart, flush) is noticed. */
  private incarnation: string | undefined;
  private readonly longestTtlMs: number;
  private readonly caches: TieredCache<unknown>[] = [];
  readonly responses: TieredCache<CachedResponse>;

  private readonly stopAnswering: (() => void) | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly workers: WorkerChannel,
  ) {
    const c = config.cache;
    // The TTLs configured for any cache; `create` refuses a longer one, which could outlive the tag
    // versions Redis keeps.
    this.longestTtlMs = Math.max(c.ttlMs, config.tokenCacheTtlMs);
    // Every entry can be checked against a version this long after its load began: the longest TTL
    // with jitter, then the stale window.
    const entryLifeMs = jitteredTtl(this.longestTtlMs, () => 1) + c.staleMs;
    this.versionTtlMs = entryLifeMs + VERSION_KEY_MARGIN_MS;
    this.versions = new TagVersions({ shared: redis.enabled, maxTags: c.tagVersionsMax, entryLifeMs, bumpMemoryMs: this.replicaLagMs });
    this.channel = `${c.namespace}:invalidate`;
    this.responses = this.create<CachedResponse>({
      name: 'http',
      l1Share: HTTP_SHARE,
      sizeOf: (r) => 2 * (r.body.length + r.etag.length),
      // Some cached routes answer lists read from a replica (ProjectRepository.findPage, say).
      lagTolerant: true,
    });
    this.sweeper = setInterval(() => this.tick(), SWEEP_MS);
    this.sweeper.unref();
    if (this.viaPrimary) {
      this.stopAnswering = workers.handle(IPC.invalidate, (tags) => {
        for (const tag of tags as string[]) this.versions.bump(tag);
      });
    }
  }

  /** How far behind the primary a replica's answer may be; 0 without replicas. */
  private get replicaLagMs(): number {
    return this.config.databaseReplicaUrls.length > 0 ? this.config.dbReplicaMaxLagMs : 0;
  }

  /** Invalidations reach the other workers through the cluster primary (no Redis). */
  private get viaPrimary(): boolean {
    return !this.redis.enabled && this.workers.enabled;
  }

  /** A cache of its own for a feature, sharing the tag versions and their invalidation. */
  create<V>(spec: CacheSpec<V>): TieredCache<V> {
    const c = this.config.cache;
    const ttlMs = spec.ttlMs ?? c.ttlMs;
    if (ttlMs > this.longestTtlMs) throw new Error(`cache ${spec.name}: a TTL of ${ttlMs} ms outlives the tag versions (${this.longestTtlMs} ms at most)`);
    const l1MaxBytes = Math.floor(c.l1MaxBytes * spec.l1Share);
    const cache = new TieredCache<V>({
      name: spec.name,
      ttlMs,
      l1MaxEntries: c.l1MaxEntries,
      l1MaxBytes,
      maxEntryBytes: Math.min(c.entryMaxBytes, l1MaxBytes),
      sizeOf: spec.sizeOf,
      namespace: c.namespace,
      versions: this.versions,
      redis: this.redis,
      confirm: (tags: readonly string[]) => this.confirm(tags),
      lagMs: spec.lagTolerant ? this.replicaLagMs : 0,
      staleMs: c.staleMs,
      // Only when the database cannot answer: a 404 or bad input is the answer itself.
      serveStaleOn: isDatabaseUnavailable,
    });
    this.caches.push(cache as TieredCache<unknown>);
    return cache;
  }

  get enabled(): boolean {
    return this.config.cache.enabled;
  }

  stats(): CacheStatsSnapshot[] {
    return this.caches.map((cache) => cache.stats());
  }

  tagVersionStats(): TagVersionStats {
    return {
      shared: this.versions.shared,
      tags: this.versions.size,
      max_tags: this.config.cache.tagVersionsMax,
      pending_bumps: this.versions.pendingCount,
      failed_bumps: this.versions.failedCount,
      subscription_live: this.versions.isLive,
    };
  }

  onApplicationBootstrap(): void {
    if (!this.redis.enabled) return;
    this.redis.subscribe(
      this.channel,
      (message) => this.onInvalidation(message),
      (live) => {
        this.versions.setLive(live);
        if (live) void this.retryFailedBumps();
      },
    );
  }

  /** Drops every entry of every cache, here and in Redis (other instances' L1 expire by TTL). */
  async flush(): Promise<void> {
    await Promise.all(this.caches.map((cache) => cache.clear()));
  }

  /**
   * Makes every entry tagged with one of `tags` stale: here at once, elsewhere through Redis. A
   * bump Redis does not take (down, slow) keeps its tags untrusted here and is sent again later.
   */
  async invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const unique = [...new Set(tags)];
    const gens = unique.map((tag) => this.versions.bump(tag));
    if (this.redis.enabled) await this.push(this.versions.sending(unique, gens));
    else if (this.viaPrimary) await this.tellOtherWorkers(unique);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    this.stopAnswering?.();
  }

  private async tellOtherWorkers(tags: string[]): Promise<void> {
    try {
      await this.workers.request(IPC.invalidate, tags);
    } catch (err) {
      // Only when the primary is gone, and with it this worker's socket: the workers stop.
      this.logger.warn({ msg: 'could not pass an invalidation to the other workers', err });
    }
  }

  private tick(): void {
    this.versions.sweep(Date.now(), SWEEP_BUDGET);
    if (this.redis.ready) void this.retryFailedBumps();
  }

  private async push(batch: BumpBatch): Promise<void> {
    try {
      const raised = (await this.redis.call((c) =>
        c.eval(BUMP_LUA, {
          keys: batch.tags.map((t) => this.versionKey(t)),
          arguments: [String(this.versionTtlMs), this.channel, this.instanceId, ...batch.tags],
        }),
      )) as number[];
      this.versions.bumped(batch, raised.map(Number));
    } catch {
      this.versions.bumpFailed(batch);
    }
  }

  /** One batch at a time: a long outage's backlog drains without a burst. */
  private async retryFailedBumps(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      const batch = this.versions.takeFailed(RETRY_BATCH);
      if (batch !== undefined) await this.push(batch);
    } finally {
      this.retrying = false;
    }
  }

  /** Reads unconfirmed tags' versions from Redis; concurrent callers share one read per tag. */
  private async confirm(tags: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: string[] = [];
    for (const tag of tags) {
      const running = this.confirming.get(tag);
      if (running !== undefined) waits.push(running);
      else fresh.push(tag);
    }
    const batch = fresh.length > 0 ? this.versions.beginConfirm(fresh) : undefined;
    if (batch !== undefined) {
      const read = this.readVersions(batch);
      for (const tag of batch.tags) this.confirming.set(tag, read);
      void read.then(() => {
        for (const tag of batch.tags) if (this.confirming.get(tag) === read) this.confirming.delete(tag);
      });
      waits.push(read);
    }
    await Promise.all(waits);
  }

  private async readVersions(batch: ConfirmBatch): Promise<void> {
    try {
      const incarnationKey = `${this.config.cache.namespace}:incarnation`;
      const [found, ...values] = await this.redis.call((c) => c.mGet([incarnationKey, ...batch.tags.map((t) => this.versionKey(t))]));
      const incarnation =
        found ??
        (await this.redis.call(async (c) => {
          await c.set(incarnationKey, randomUUID(), { condition: 'NX' });
          return c.get(incarnationKey);
        }));
      if (incarnation === null) return; // deleted again at once: confirm nothing
      if (this.incarnation !== undefined && incarnation !== this.incarnation) this.onDataLost();
      this.incarnation = incarnation;
      this.versions.endConfirm(
        batch,
        values.map((v) => (v === null || v === undefined ? 0 : Number(v))),
      );
    } catch {
      // Unconfirmed: the caller reads from PostgreSQL and caches nothing.
    }
  }

  /**
   * Redis came back without its data: every version reads 0 again, so an entry stored before a bump
   * that Redis forgot would match. A restart drops the subscriber's connection, which unconfirms
   * every tag: the first read that confirms one again sees the new incarnation, before any entry is
   * trusted.
   */
  private onDataLost(): void {
    this.logger.warn('Redis lost its data (restart, failover or flush): dropping the in-memory caches');
    for (const cache of this.caches) cache.clearLocal();
  }

  private onInvalidation(message: string): void {
    try {
      const parsed = JSON.parse(message) as InvalidationMessage;
      if (parsed.o === this.instanceId) return;
      parsed.t.forEach((tag, i) => this.versions.observe(tag, Number(parsed.v[i])));
    } catch {
      this.logger.warn('ignored a malformed invalidation message');
    }
  }

  private versionKey(tag: string): string {
    return `${this.config.cache.namespace}:tagv:${tag}`;
  }
}
