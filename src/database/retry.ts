import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
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

const statementNames = new Map<string, string>();

/** A stable name per statement text: PostgreSQL parses and plans it once per connection. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `r${createHash('sha1').update(sql).digest('base64url').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * A read query on the application's (instrumented) pool, as a named prepared statement, retried on
 * transient connection errors. Reads are the hot path: going to the pool directly skips TypeORM's
 * per-query QueryRunner, and preparing skips PostgreSQL's parse and plan, which share the same cores.
 */
export function readQuery<T>(db: DataSource, sql: string, params: unknown[]): Promise<T> {
  const pool = (db.driver as PostgresDriver).master as Pool;
  const name = statementName(sql);
  return retryIdempotent(async () => (await pool.query({ name, text: sql, values: params })).rows as T);
}
