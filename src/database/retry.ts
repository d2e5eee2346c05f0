import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from './backoff';
import { isConnectionError, PoolTimeoutError } from './database.errors';

const READ_ATTEMPTS = 3;
const READ_BACKOFF_BASE_MS = 25;
const READ_BACKOFF_CAP_MS = 250;

/**
 * A connection that broke (server restart, failover, a dropped socket) is worth one more try on a
 * fresh connection. A pool timeout is not: the caller already waited DB_POOL_TIMEOUT_MS.
 */
export function isTransient(err: unknown): boolean {
  return isConnectionError(err) && !(err instanceof PoolTimeoutError);
}

/**
 * Retries `run` on transient connection errors with exponential backoff and jitter. Only for
 * statements that are safe to repeat (reads, idempotent touches): a write whose connection broke
 * may have committed, and repeating it could apply it twice.
 */
export async function retryIdempotent<T>(run: () => Promise<T>, attempts = READ_ATTEMPTS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt + 1 >= attempts || !isTransient(err)) throw err;
      await sleep(backoffMs(attempt, READ_BACKOFF_BASE_MS, READ_BACKOFF_CAP_MS));
    }
  }
}
