import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { AppConfig } from '../config/app-config';
import { isErrorLike, PoolTimeoutError } from './database.errors';

/** Counts as node-postgres reports them plus the acquire/release balance we keep ourselves. */
export interface PoolCounts {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly checkedOut: number;
}

/** A pool described the way SQLAlchemy's QueuePool describes itself. */
export interface PoolSnapshot {
  readonly pool: string;
  readonly pool_size: number;
  readonly max_overflow: number;
  readonly max: number;
  readonly checked_in: number;
  readonly checked_out: number;
  /** open - pool_size: negative until the pool has opened pool_size connections. */
  readonly overflow: number;
  readonly waiting: number;
  readonly total: number;
  readonly timeouts: number;
}

export interface AcquireStats {
  readonly count: number;
  readonly timeouts: number;
  readonly prePingFailures: number;
  readonly waitMsTotal: number;
  readonly waitMsMax: number;
  /** The most recent waits (bounded), oldest first. */
  readonly recentWaitsMs: readonly number[];
}

/** What the metrics module listens to; all durations in seconds. */
export interface PoolListener {
  acquired?(pool: string, waitSeconds: number): void;
  released?(pool: string, heldSeconds: number): void;
  created?(pool: string, creationSeconds: number): void;
  timedOut?(pool: string): void;
}

export function snapshotOf(
  name: string,
  counts: PoolCounts,
  size: number,
  maxOverflow: number,
  timeouts: number,
): PoolSnapshot {
  return {
    pool: name,
    pool_size: size,
    max_overflow: maxOverflow,
    max: size + maxOverflow,
    checked_in: counts.idle,
    checked_out: counts.checkedOut,
    overflow: counts.total - size,
    waiting: counts.waiting,
    total: counts.total,
    timeouts,
  };
}

/** SQLAlchemy's `QueuePool.status()` line, spacing included, so admins can grep for it. */
export function queuePoolStatus(s: PoolSnapshot): string {
  return (
    `Pool size: ${s.pool_size}  Connections in pool: ${s.checked_in} ` +
    `Current Overflow: ${s.overflow} Current Checked out connections: ${s.checked_out}`
  );
}

const RECENT_WAITS = 256;

interface Tracked {
  readonly name: string;
  readonly pool: Pool;
  checkedOut: number;
  timeouts: number;
  prePingFailures: number;
  count: number;
  waitMsTotal: number;
  waitMsMax: number;
  readonly recent: number[];
  recentNext: number;
}

/**
 * Watches the pg pools that TypeORM creates: checked-in / checked-out / overflow as SQLAlchemy
 * reports them, acquire waits and timeouts. It also installs the two things pg-pool lacks: an
 * acquire timeout turned into a typed error, and a pre-ping of connections that sat idle.
 */
@Injectable()
export class PoolObserver {
  private readonly pools = new Map<string, Tracked>();
  private readonly listeners: PoolListener[] = [];

  constructor(private readonly config: AppConfig) {}

  subscribe(listener: PoolListener): void {
    this.listeners.push(listener);
  }

  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  snapshot(name = 'primary'): PoolSnapshot {
    const tracked = this.tracked(name);
    const { pool } = tracked;
    return snapshotOf(
      name,
      { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, checkedOut: tracked.checkedOut },
      this.config.pool.size,
      this.config.pool.maxOverflow,
      tracked.timeouts,
    );
  }

  acquireStats(name = 'primary'): AcquireStats {
    const t = this.tracked(name);
    const recent = t.recent.length < RECENT_WAITS ? [...t.recent] : [...t.recent.slice(t.recentNext), ...t.recent.slice(0, t.recentNext)];
    return {
      count: t.count,
      timeouts: t.timeouts,
      prePingFailures: t.prePingFailures,
      waitMsTotal: t.waitMsTotal,
      waitMsMax: t.waitMsMax,
      recentWaitsMs: recent,
    };
  }

  /** Instruments `pool` in place. Called once per pool right after TypeORM has created it. */
  attach(pool: Pool, name = 'primary'): void {
    if (this.pools.has(name)) throw new Error(`pool ${name} is already observed`);
    const t: Tracked = {
      name,
      pool,
      checkedOut: 0,
      timeouts: 0,
      prePingFailures: 0,
      count: 0,
      waitMsTotal: 0,
      waitMsMax: 0,
      recent: [],
      recentNext: 0,
    };
    this.pools.set(name, t);

    const acquiredAt = new WeakMap<PoolClient, number>();
    const releasedAt = new WeakMap<PoolClient, number>();
    pool.on('acquire', (client) => {
      t.checkedOut++;
      acquiredAt.set(client, performance.now());
    });
    pool.on('release', (_err: Error | undefined, client: PoolClient) => {
      t.checkedOut--;
      const now = performance.now();
      releasedAt.set(client, now);
      const since = acquiredAt.get(client);
      if (since !== undefined) this.emit((l) => l.released?.(name, (now - since) / 1000));
    });

    const { prePing, prePingIdleMs, timeoutMs } = this.config.pool;
    const originalConnect = pool.connect.bind(pool) as () => Promise<PoolClient>;
    const seen = new WeakSet<PoolClient>();

    const acquire = async (): Promise<PoolClient> => {
      const started = performance.now();
      // Each failed ping destroys one dead connection; after a database restart every idle
      // connection may be dead, so allow as many retries as the pool can hold.
      for (let attempt = 0; ; attempt++) {
        let client: PoolClient;
        try {
          client = await originalConnect();
        } catch (err) {
          if (isAcquireTimeout(err)) {
            t.timeouts++;
            this.emit((l) => l.timedOut?.(name));
            throw new PoolTimeoutError(timeoutMs, { cause: err });
          }
          throw err;
        }
        const isNew = !seen.has(client);
        seen.add(client);
        const idleSince = releasedAt.get(client);
        const stale = idleSince !== undefined && performance.now() - idleSince >= prePingIdleMs;
        if (prePing && stale && attempt < this.config.poolMax) {
          try {
            await client.query('SELECT 1');
          } catch (err) {
            t.prePingFailures++;
            client.release(err as Error);
            continue;
          }
        }
        const waitMs = performance.now() - started;
        this.recordWait(t, waitMs);
        if (isNew) this.emit((l) => l.created?.(name, waitMs / 1000));
        this.emit((l) => l.acquired?.(name, waitMs / 1000));
        return client;
      }
    };

    // TypeORM calls connect(callback); health checks and our own code may use the promise form.
    type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: Error | boolean) => void) => void;
    (pool as unknown as { connect: (cb?: ConnectCallback) => Promise<PoolClient> | undefined }).connect = (cb) => {
      const promise = acquire();
      if (!cb) return promise;
      promise.then(
        (client) => cb(undefined, client, client.release),
        (err: Error) => cb(err, undefined, () => undefined),
      );
      return undefined;
    };
  }

  private recordWait(t: Tracked, waitMs: number): void {
    t.count++;
    t.waitMsTotal += waitMs;
    if (waitMs > t.waitMsMax) t.waitMsMax = waitMs;
    if (t.recent.length < RECENT_WAITS) t.recent.push(waitMs);
    else t.recent[t.recentNext] = waitMs;
    t.recentNext = (t.recentNext + 1) % RECENT_WAITS;
  }

  private tracked(name: string): Tracked {
    const t = this.pools.get(name);
    if (!t) throw new Error(`no pool named ${name} is observed`);
    return t;
  }

  private emit(call: (listener: PoolListener) => void): void {
    for (const listener of this.listeners) call(listener);
  }
}

function isAcquireTimeout(err: unknown): boolean {
  return isErrorLike(err) && err.message === 'timeout exceeded when trying to connect';
}
