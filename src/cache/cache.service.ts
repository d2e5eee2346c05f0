import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { isDatabaseUnavailable } from '../database/database.errors';
import { RedisConnection } from './redis-connection';
import { TagVersions } from './tag-versions';
import { CacheStatsSnapshot, TieredCache } from './tiered-cache';

/** A cached HTTP response: the body already serialized, so a hit sends bytes as they are. */
export interface CachedResponse {
  readonly body: string;
  readonly etag: string;
}

export interface ResolvedToken {
  readonly id: string;
  readonly email: string;
  readonly role: 'user' | 'admin';
}

interface InvalidationMessage {
  readonly origin: string;
  readonly versions: Record<string, number>;
}

const SWEEP_MS = 60_000;

/**
 * The application's caches and their invalidation. A write calls `invalidate(tags)` before it
 * answers: locally that takes effect at once; with Redis the new tag versions are stored there and
 * published, so the other instances drop their L1 copies within milliseconds.
 */
@Injectable()
export class CacheService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CacheService.name);
  private readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly versions: TagVersions;
  private readonly sweeper: NodeJS.Timeout;
  readonly responses: TieredCache<CachedResponse>;
  readonly tokens: TieredCache<ResolvedToken>;
  /** "user U owns project P", so writes into a project skip an ownership query; dropped with the project. */
  readonly ownership: TieredCache<true>;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
  ) {
    // A tag's version must outlive every entry that could still be checked against it, stale
    // window included, or a forgotten bump would make an invalidated entry look current again.
    const longestLife = Math.max(config.cache.ttlMs, config.tokenCacheTtlMs) + config.cache.staleMs;
    this.versions = new TagVersions(2 * longestLife + 60_000);
    this.channel = `${config.cache.namespace}:invalidate`;
    const common = {
      l1MaxEntries: config.cache.l1MaxEntries,
      namespace: config.cache.namespace,
      versions: this.versions,
      redis,
      syncVersions: (tags: readonly string[]) => this.syncVersions(tags),
      staleMs: config.cache.staleMs,
      // Only when the database cannot answer: a 404 or bad input is the answer itself.
      serveStaleOn: isDatabaseUnavailable,
    };
    this.responses = new TieredCache<CachedResponse>({ ...common, name: 'http', ttlMs: config.cache.ttlMs });
    this.tokens = new TieredCache<ResolvedToken>({ ...common, name: 'tokens', ttlMs: Math.max(1, config.tokenCacheTtlMs) });
    this.ownership = new TieredCache<true>({ ...common, name: 'ownership', ttlMs: config.cache.ttlMs });
    this.sweeper = setInterval(() => this.versions.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  get enabled(): boolean {
    return this.config.cache.enabled;
  }

  stats(): CacheStatsSnapshot[] {
    return [this.responses.stats(), this.tokens.stats(), this.ownership.stats()];
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.redis.enabled) return;
    await this.redis
      .subscribe(this.channel, (message) => this.onInvalidation(message))
      .catch((err) => this.logger.warn(`cannot subscribe to invalidations yet: ${(err as Error).message}`));
  }

  /** Drops every entry of every cache, here and in Redis (other instances' L1 expire by TTL). */
  async flush(): Promise<void> {
    await Promise.all([this.responses.clear(), this.tokens.clear(), this.ownership.clear()]);
  }

  /** Makes every entry tagged with one of `tags` stale, here at once and elsewhere via Redis. */
  async invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const unique = [...new Set(tags)];
    for (const tag of unique) this.versions.bump(tag);
    if (!this.redis.enabled) return;
    try {
      const keys = unique.map((t) => this.versionKey(t));
      const raised = await this.redis.call(async (c) => {
        const multi = c.multi();
        for (const key of keys) multi.incr(key);
        for (const key of keys) multi.pExpire(key, 24 * 3_600_000);
        return (await multi.exec()) as unknown as number[];
      });
      const versions: Record<string, number> = {};
      unique.forEach((tag, i) => {
        const v = Number(raised[i]);
        this.versions.raise(tag, v);
        versions[tag] = v;
      });
      const message: InvalidationMessage = { origin: this.instanceId, versions };
      await this.redis.call((c) => c.publish(this.channel, JSON.stringify(message)));
    } catch {
      // Already invalidated here; other instances catch up through syncVersions or TTL.
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private onInvalidation(message: string): void {
    try {
      const parsed = JSON.parse(message) as InvalidationMessage;
      if (parsed.origin === this.instanceId) return;
      for (const [tag, v] of Object.entries(parsed.versions)) this.versions.raise(tag, Number(v));
    } catch {
      this.logger.warn('ignored a malformed invalidation message');
    }
  }

  private async syncVersions(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const values = await this.redis.call((c) => c.mGet(tags.map((t) => this.versionKey(t))));
    tags.forEach((tag, i) => {
      const v = values[i];
      if (v !== null && v !== undefined) this.versions.raise(tag, Number(v));
    });
  }

  private versionKey(tag: string): string {
    return `${this.config.cache.namespace}:tagv:${tag}`;
  }
}
