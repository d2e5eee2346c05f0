import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { AppConfig } from '../config/app-config';
import { EventChannel } from './event-channel';

/** One statement that finished: its operation, how long it took, and whether that was slow. */
export interface QueryEvent {
  readonly operation: string;
  readonly ms: number;
  readonly slow: boolean;
}

const STATEMENT_LOG_MAX = 500;

/** select / insert / update / delete / other, from the statement's leading verb. */
export function operationOf(sql: string): string {
  const head = sql.trimStart().slice(0, 12).toLowerCase();
  for (const verb of ['select', 'insert', 'update', 'delete']) if (head.startsWith(verb)) return verb;
  if (head.startsWith('with')) {
    // A data-modifying CTE writes wherever its INSERT / UPDATE / DELETE stands.
    const verb = /\b(insert|update|delete)\b/.exec(sql.toLowerCase());
    return verb ? verb[1] : 'select';
  }
  return 'other';
}

/** One line, bounded: the statement text only. Values travel as $n parameters and are never logged. */
export function normalizeStatement(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > STATEMENT_LOG_MAX ? `${flat.slice(0, STATEMENT_LOG_MAX)}…` : flat;
}

/**
 * Times every statement sent on the observed pools' connections, for the query-duration histogram,
 * and logs the slow ones (over DB_SLOW_QUERY_MS) with their normalized text.
 */
@Injectable()
export class QueryObserver {
  private readonly logger = new Logger('SlowQuery');
  readonly executed = new EventChannel<QueryEvent>('db.query.executed');
  slowQueries = 0;

  constructor(private readonly config: AppConfig) {}

  attach(pool: Pool): void {
    pool.on('connect', (client) => this.wrap(client));
    // Clients opened before we were attached (TypeORM opens one while initializing).
    for (const client of (pool as unknown as { _clients?: PoolClient[] })._clients ?? []) this.wrap(client);
  }

  private wrap(client: PoolClient): void {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string; submit?: unknown } | undefined;
      const text = typeof first === 'string' ? first : first?.text;
      // Cursors and streams (submittables) finish elsewhere; they are not timed.
      if (text === undefined || (typeof first === 'object' && typeof first.submit === 'function')) return original(...args);
      const started = performance.now();
      const done = () => this.record(text, performance.now() - started);
      const callbackAt = args.findIndex((a) => typeof a === 'function');
      if (callbackAt >= 0) {
        const callback = args[callbackAt] as (...r: unknown[]) => void;
        args[callbackAt] = (...r: unknown[]) => {
          done();
          callback(...r);
        };
        return original(...args);
      }
      const result = original(...args) as Promise<unknown> | undefined;
      result?.then(done, done);
      return result;
    };
  }

  private record(sql: string, ms: number): void {
    const operation = operationOf(sql);
    const slow = ms >= this.config.dbSlowQueryMs;
    if (slow) {
      this.slowQueries++;
      this.logger.warn({ msg: 'slow query', operation, ms: Math.round(ms), statement: normalizeStatement(sql) });
    }
    this.executed.publish({ operation, ms, slow });
  }
}
