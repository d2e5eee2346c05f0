import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { Pool, QueryConfig, QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { AppConfig } from '../config/app-config';
import { isConnectionError, isErrorLike, sqlState } from './database.errors';
import { EventChannel } from './event-channel';
import { replicaPoolName, ReplicaRouter } from './replica-router';
import { retryIdempotent } from './retry';

// A hot standby cancels a read that holds back the replay of a change (conflict with recovery).
const RECOVERY_CONFLICT = '40001';

/** What a write changed: the rows its RETURNING clause gave (none without one) and how many. */
export interface Written<T> {
  readonly rows: T[];
  readonly count: number;
}

const statementNames = new Map<string, string>();

/**
 * A stable name per statement text: PostgreSQL parses and plans it once per connection. The texts
 * are the repositories' own (values travel as $n), so the map holds a fixed, small set.
 */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `s${createHash('sha1').update(sql).digest('base64url').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * The repositories' one way to the database: hand-written SQL sent as named prepared statements
 * on the application's observed pools. TypeORM's `DataSource.query` would open a QueryRunner per
 * statement and have PostgreSQL parse and plan each one again; both costs land on the hot path and
 * on the same cores (docs/BENCHMARKS.md). The entities stay the schema's declared model
 * (test/e2e/entity-drift.e2e-spec.ts); this class only decides how statements travel: to the
 * primary, except the reads a repository sends with `readLagTolerant` (docs/scaling-replicas.md).
 * With DB_PREPARED_STATEMENTS=false every statement is sent unnamed (parsed and planned each time),
 * for PgBouncer in transaction mode before 1.21.
 */
@Injectable()
export class PreparedSql {
  /** A lag-tolerant read the named replica did not answer, served by the primary instead. */
  readonly replicaFallbacks = new EventChannel<string>('db.replica.fallback');
  private readonly logger = new Logger(PreparedSql.name);
  private readonly named: boolean;
  private readonly replicas: ReplicaRouter;

  constructor(
    private readonly db: DataSource,
    config: AppConfig,
  ) {
    this.named = config.dbPreparedStatements;
    this.replicas = new ReplicaRouter(this.driver.slaves.length);
  }

  /** The rows of a read, retried on a broken connection: a read is safe to repeat. */
  read<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return retryIdempotent(() => this.send<T>(this.driver.master as Pool, sql, params)).then((result) => result.rows);
  }

  /**
   * A read that may see the database as it was a moment ago: served by a replica (the least busy
   * of those up) when DATABASE_REPLICA_URLS names any, else by the primary. Only for answers whose
   * staleness by the replay lag harms nobody; a read that must see a write just made, or that a
   * write depends on, uses `read` (TypeORM leaves lag to the caller, typeorm#9427). A replica that
   * cannot be reached (connection error, pool timeout) is marked down for a short backoff and the
   * read goes to the primary; one that cancelled the read for a conflict with its replay only hands
   * that read over.
   */
  async readLagTolerant<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const slaves = this.driver.slaves as Pool[];
    const index = this.replicas.choose((i) => busy(slaves[i]));
    if (index === undefined) return this.read(sql, params);
    try {
      const { rows } = await this.send<T>(slaves[index], sql, params);
      this.replicas.succeeded(index);
      return rows;
    } catch (err) {
      if (isConnectionError(err)) {
        const ms = this.replicas.failed(index);
        this.logger.warn(`${replicaPoolName(index)} failed (${isErrorLike(err) ? err.message : 'unknown error'}): its reads go to the primary for ${ms} ms`);
      } else if (sqlState(err) !== RECOVERY_CONFLICT) {
        throw err;
      }
      this.replicaFallbacks.publish(replicaPoolName(index));
      return this.read(sql, params);
    }
  }

  /**
   * A write sent once: if its connection breaks, it may have committed, and sending it again could
   * apply it twice. One statement is one transaction, committed before this resolves.
   */
  write<T = never>(sql: string, params: readonly unknown[]): Promise<Written<T>> {
    return this.send<T>(this.driver.master as Pool, sql, params).then((result) => ({ rows: result.rows, count: result.rowCount ?? 0 }));
  }

  /** A write whose repetition changes nothing more (setting a timestamp to now()), retried like a read. */
  writeRepeatable<T>(sql: string, params: readonly unknown[]): Promise<Written<T>> {
    return retryIdempotent(() => this.write<T>(sql, params));
  }

  // Rows are typed by the statement's own column list, which the repository writes next to its type.
  private async send<T>(pool: Pool, sql: string, params: readonly unknown[]): Promise<{ rows: T[]; rowCount: number | null }> {
    const query: QueryConfig = this.named ? { name: statementName(sql), text: sql, values: [...params] } : { text: sql, values: [...params] };
    const result: QueryResult = await pool.query(query);
    return { rows: result.rows as T[], rowCount: result.rowCount };
  }

  private get driver(): PostgresDriver {
    return this.db.driver as PostgresDriver;
  }
}

/** Connections in use plus callers queued: pg-pool counts connecting clients in totalCount. */
function busy(pool: Pool): number {
  return pool.totalCount - pool.idleCount + pool.waitingCount;
}
