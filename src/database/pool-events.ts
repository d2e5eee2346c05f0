import { EventChannel } from './event-channel';

/** A pool's name and a duration in milliseconds. */
export interface PoolDuration {
  readonly pool: string;
  readonly ms: number;
}

/** What happens to the observed pools; the name-only events carry the pool's name. */
export class PoolEvents {
  /** A caller got a connection after waiting `ms`. */
  readonly acquired = new EventChannel<PoolDuration>('db.pool.acquired');
  /** A connection went back to the pool after being held `ms`. */
  readonly released = new EventChannel<PoolDuration>('db.pool.released');
  /** A connection was opened for a caller who waited `ms` for it. */
  readonly created = new EventChannel<PoolDuration>('db.pool.created');
  /** A caller gave up after DB_POOL_TIMEOUT_MS. */
  readonly timedOut = new EventChannel<string>('db.pool.timed-out');
  /** A connection that sat idle failed its pre-ping and was dropped. */
  readonly prePingFailed = new EventChannel<string>('db.pool.pre-ping-failed');
}
