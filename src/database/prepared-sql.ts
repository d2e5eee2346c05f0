import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Pool, QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { retryIdempotent } from './retry';

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
 * on the application's observed pool. TypeORM's `DataSource.query` would open a QueryRunner per
 * statement and have PostgreSQL parse and plan each one again; both costs land on the hot path and
 * on the same cores (docs/BENCHMARKS.md). The entities stay the schema's declared model
 * (test/e2e/entity-drift.e2e-spec.ts); this class only decides how statements travel.
 */
@Injectable()
export class PreparedSql {
  constructor(private readonly db: DataSource) {}

  /** The rows of a read, retried on a broken connection: a read is safe to repeat. */
  read<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return retryIdempotent(() => this.send<T>(sql, params)).then((result) => result.rows);
  }

  /**
   * A write sent once: if its connection breaks, it may have committed, and sending it again could
   * apply it twice. One statement is one transaction, committed before this resolves.
   */
  write<T = never>(sql: string, params: readonly unknown[]): Promise<Written<T>> {
    return this.send<T>(sql, params).then((result) => ({ rows: result.rows, count: result.rowCount ?? 0 }));
  }

  /** A write whose repetition changes nothing more (setting a timestamp to now()), retried like a read. */
  writeRepeatable<T>(sql: string, params: readonly unknown[]): Promise<Written<T>> {
    return retryIdempotent(() => this.write<T>(sql, params));
  }

  // Rows are typed by the statement's own column list, which the repository writes next to its type.
  private async send<T>(sql: string, params: readonly unknown[]): Promise<{ rows: T[]; rowCount: number | null }> {
    const pool = (this.db.driver as PostgresDriver).master as Pool;
    const result: QueryResult = await pool.query({ name: statementName(sql), text: sql, values: [...params] });
    return { rows: result.rows as T[], rowCount: result.rowCount };
  }
}
