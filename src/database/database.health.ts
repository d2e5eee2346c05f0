import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { isErrorLike } from './database.errors';

const PING_TIMEOUT_MS = 1_000;

/**
 * Answers "can the database be reached right now?" over one dedicated connection, so a saturated
 * application pool reports as busy (in the pool figures) rather than as down, and the probe still
 * answers within a second when the server is gone.
 */
@Injectable()
export class DatabaseHealth implements OnApplicationShutdown {
  private readonly probe: Pool;

  constructor(config: AppConfig) {
    this.probe = new Pool({
      connectionString: config.databaseUrl,
      max: 1,
      connectionTimeoutMillis: PING_TIMEOUT_MS,
      query_timeout: PING_TIMEOUT_MS,
      statement_timeout: PING_TIMEOUT_MS,
      idleTimeoutMillis: 60_000,
      application_name: 'projects-backend-health',
    });
    // An idle probe connection dropped by a restarting server must not crash the process.
    this.probe.on('error', () => undefined);
  }

  async ping(): Promise<{ ok: true; ms: number } | { ok: false; error: string }> {
    const started = performance.now();
    try {
      await this.probe.query('SELECT 1');
      return { ok: true, ms: Math.round((performance.now() - started) * 10) / 10 };
    } catch (err) {
      return { ok: false, error: isErrorLike(err) ? err.message : 'unknown error' };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probe.end();
  }
}
