import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { backoffMs } from './backoff';
import { dataSourceOptions } from './data-source';
import { isConnectionError } from './database.errors';

// Any constant works; it only has to be the same for every instance of this app.
const MIGRATION_LOCK_KEY = 7_320_001;

/** Connects, retrying connection errors up to `DB_CONNECT_RETRIES` times, logging each attempt. */
export async function connectWithRetry(
  connect: () => Promise<unknown>,
  retries: number,
  logger: Logger,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await connect();
      return;
    } catch (err) {
      if (attempt >= retries || !isConnectionError(err)) throw err;
      const delay = backoffMs(attempt);
      logger.warn(`database not reachable (${(err as Error).message}); attempt ${attempt + 1} of ${retries}, retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}

/**
 * Runs (or reverts the last of) the migrations under a PostgreSQL advisory lock, so that several
 * instances starting at once apply each migration exactly once. Migrations get no statement
 * timeout: building an index on a large table may take longer than any request should.
 */
export async function migrate(config: AppConfig, url: string, direction: 'run' | 'revert' = 'run'): Promise<string[]> {
  const logger = new Logger('Migrations');
  const base = dataSourceOptions(config, url);
  const dataSource = new DataSource({
    ...base,
    extra: { ...base.extra, max: 2, min: 0, statement_timeout: 0 },
  });
  await connectWithRetry(() => dataSource.initialize(), config.dbConnectRetries, logger);
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    if (direction === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      return [];
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const m of applied) logger.log(`applied ${m.name}`);
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
