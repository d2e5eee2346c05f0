import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient } from 'pg';
import { isErrorLike, PoolTimeoutError } from './database.errors';
import type { PoolEvents } from './pool-events';

export interface ConnectOptions {
  readonly prePing: boolean;
  /** A connection idle at least this long is pinged before it is handed out. */
  readonly prePingIdleMs: number;
  readonly timeoutMs: number;
  /** Failed pings allowed per acquire before a connection is handed out unpinged. */
  readonly maxPings: number;
}

// TypeORM calls connect(callback); health checks and our own code may use the promise form.
type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: Error | boolean) => void) => void;

/**
 * Replaces `pool.connect` with the two things pg-pool lacks: an acquire timeout turned into a
 * typed error (PoolTimeoutError, answered 503), and a pre-ping of connections that sat idle.
 * Each acquire, opened connection, timeout and failed ping is published on `events`.
 */
export function instrumentConnect(pool: Pool, name: string, options: ConnectOptions, events: PoolEvents): void {
  const { prePing, prePingIdleMs, timeoutMs, maxPings } = options;
  const releasedAt = new WeakMap<PoolClient, number>();
  pool.on('release', (_err: Error | undefined, client: PoolClient) => releasedAt.set(client, performance.now()));

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
          events.timedOut.publish(name);
          throw new PoolTimeoutError(timeoutMs, { cause: err });
        }
        throw err;
      }
      const isNew = !seen.has(client);
      seen.add(client);
      const idleSince = releasedAt.get(client);
      const stale = idleSince !== undefined && performance.now() - idleSince >= prePingIdleMs;
      if (prePing && stale && attempt < maxPings) {
        try {
          await client.query('SELECT 1');
        } catch (err) {
          events.prePingFailed.publish(name);
          client.release(err as Error);
          continue;
        }
      }
      const ms = performance.now() - started;
      if (isNew) events.created.publish({ pool: name, ms });
      events.acquired.publish({ pool: name, ms });
      return client;
    }
  };

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

function isAcquireTimeout(err: unknown): boolean {
  return isErrorLike(err) && err.message === 'timeout exceeded when trying to connect';
}
