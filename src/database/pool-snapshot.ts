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
