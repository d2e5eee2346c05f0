import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { AppConfig } from '../config/app-config';
import { AcquireWaits, type AcquireStats } from './acquire-waits';
import { instrumentConnect } from './pool-connect';
import { PoolEvents } from './pool-events';
import { snapshotOf, type PoolSnapshot } from './pool-snapshot';

interface Observed {
  readonly pool: Pool;
  checkedOut: number;
  readonly waits: AcquireWaits;
}

/**
 * The pg pools that TypeORM creates, by name: their QueuePool snapshot and acquire statistics,
 * and the events (`events`) the metrics subscribe to. Its own statistics are fed by the same events.
 */
@Injectable()
export class PoolObserver {
  readonly events = new PoolEvents();
  private readonly pools = new Map<string, Observed>();

  constructor(private readonly config: AppConfig) {
    this.events.acquired.subscribe(({ pool, ms }) => this.observed(pool).waits.waited(ms));
    this.events.timedOut.subscribe((pool) => this.observed(pool).waits.timeouts++);
    this.events.prePingFailed.subscribe((pool) => this.observed(pool).waits.prePingFailures++);
  }

  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  snapshot(name = 'primary'): PoolSnapshot {
    const { pool, checkedOut, waits } = this.observed(name);
    return snapshotOf(
      name,
      { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, checkedOut },
      this.config.pool.size,
      this.config.pool.maxOverflow,
      waits.timeouts,
    );
  }

  acquireStats(name = 'primary'): AcquireStats {
    return this.observed(name).waits.stats();
  }

  /** Instruments `pool` in place. Called once per pool right after TypeORM has created it. */
  attach(pool: Pool, name = 'primary'): void {
    if (this.pools.has(name)) throw new Error(`pool ${name} is already observed`);
    const observed: Observed = { pool, checkedOut: 0, waits: new AcquireWaits() };
    this.pools.set(name, observed);

    const acquiredAt = new WeakMap<PoolClient, number>();
    pool.on('acquire', (client) => {
      observed.checkedOut++;
      acquiredAt.set(client, performance.now());
    });
    pool.on('release', (_err: Error | undefined, client: PoolClient) => {
      observed.checkedOut--;
      const since = acquiredAt.get(client);
      if (since !== undefined) this.events.released.publish({ pool: name, ms: performance.now() - since });
    });

    const { prePing, prePingIdleMs, timeoutMs } = this.config.pool;
    instrumentConnect(pool, name, { prePing, prePingIdleMs, timeoutMs, maxPings: this.config.poolMax }, this.events);
  }

  private observed(name: string): Observed {
    const observed = this.pools.get(name);
    if (!observed) throw new Error(`no pool named ${name} is observed`);
    return observed;
  }
}
