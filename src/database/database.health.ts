import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { isErrorLike } from './database.errors';
import { replicaPoolName } from './replica-router';

const PING_TIMEOUT_MS = 1_000;

export type Ping = { ok: true; ms: number } | { ok: false; error: string };

/**
 * Answers "can the database be reached right now?" over one dedicated connection per server, so a
 * saturated application pool reports as busy (in the pool figures) rather than as down, and the
 * probe still answers within a second when the server is gone. The replicas are probed the same
 * way, each under its pool's name (replica-0, ...).
 */
@Injectable()
export class DatabaseHealth implements OnApplicationShutdown {
  private readonly probe: Pool;
  private readonly replicaProbes: { name: string; probe: Pool }[];

  constructor(config: AppConfig) {
    this.probe = probePool(config.databaseUrl);
    this.replicaProbes = config.databaseReplicaUrls.map((url, i) => ({ name: replicaPoolName(i), probe: probePool(url) }));
  }

  get hasReplicas(): boolean {
    return this.replicaProbes.length > 0;
  }

  ping(): Promise<Ping> {
    return pingOver(this.probe);
  }

  /** Every replica's ping, by pool name; none without DATABASE_REPLICA_URLS. */
  pingReplicas(): Promise<{ name: string; ping: Ping }[]> {
    return Promise.all(this.replicaProbes.map(async ({ name, probe }) => ({ name, ping: await pingOver(probe) })));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.probe, ...this.replicaProbes.map((r) => r.probe)].map((probe) => probe.end()));
  }
}

function probePool(connectionString: string | undefined): Pool {
  const probe = new Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: PING_TIMEOUT_MS,
    query_timeout: PING_TIMEOUT_MS,
    statement_timeout: PING_TIMEOUT_MS,
    idleTimeoutMillis: 60_000,
    application_name: 'projects-backend-health',
  });
  // An idle probe connection dropped by a restarting server must not crash the process.
  probe.on('error', () => undefined);
  return probe;
}

async function pingOver(probe: Pool): Promise<Ping> {
  const started = performance.now();
  try {
    await probe.query('SELECT 1');
    return { ok: true, ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    return { ok: false, error: isErrorLike(err) ? err.message : 'unknown error' };
  }
}
