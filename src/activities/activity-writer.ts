import { performance } from 'node:perf_hooks';
import { Injectable, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { context, Link, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { AppConfig } from '../config/app-config';
import { sqlState } from '../database/database.errors';
import { EventChannel } from '../database/event-channel';
import type { ActivityRow, NewActivity } from './activity.entity';
import { ActivityRepository } from './activity.repository';

/**
 * Transactions the writer runs at once. Two let one batch fill while the other commits; more would
 * only take connections from readers, since batches already grow to absorb the load.
 */
export const MAX_FLUSHES_IN_FLIGHT = 2;
/** Rows waiting for a flush. Past it requests get 503 at once instead of memory growing while the database lags. */
export const MAX_QUEUED_ROWS = 50_000;
const RECENT_BATCHES = 64;
const tracer = trace.getTracer('activity-writer');

/** One transaction the writer ran; a batch that failed is then retried in halves, each reported too. */
export interface FlushEvent {
  readonly rows: number;
  readonly requests: number;
  readonly seconds: number;
  readonly committed: boolean;
}

export interface ActivityWriterStats {
  readonly enabled: boolean;
  readonly maxRows: number;
  readonly waitMs: number;
  /** Transactions committed. */
  readonly batches: number;
  /** Transactions rolled back (each failed batch, and each failed half of it while isolating the culprit). */
  readonly failedBatches: number;
  /** Rows and requests committed. */
  readonly rows: number;
  readonly requests: number;
  readonly queuedRows: number;
  readonly queuedRequests: number;
  readonly inFlight: number;
  /** Rows per committed batch, the latest 64, oldest first. */
  readonly recentBatchSizes: readonly number[];
}

interface PendingRequest {
  readonly rows: readonly NewActivity[];
  /** performance.now() by which the request's batch should be flushing. */
  readonly deadline: number;
  /** The sending request's span, when its trace is sampled: the flush that carries its rows links to it. */
  readonly link: Link | undefined;
  resolve(rows: ActivityRow[]): void;
  reject(err: unknown): void;
}

function sampledLink(): Link | undefined {
  const request = trace.getActiveSpan()?.spanContext();
  return request !== undefined && (request.traceFlags & TraceFlags.SAMPLED) !== 0 ? { context: request } : undefined;
}

/** Data exceptions (22) and constraint violations (23) come from some rows; anything else would fail any batch. */
function isRowError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Group commit: rows of concurrent requests share one multi-row INSERT. A batch is flushed once it
 * holds `maxRows` rows or its oldest request has waited `waitMs`, and each request is answered only
 * after the statement holding its rows committed. A request's rows always go in one statement, so
 * a request stands or fails as a whole. Disabled, every request is its own batch at once: the
 * "one INSERT per request" baseline through the same code.
 */
@Injectable()
export class ActivityWriter implements OnApplicationShutdown {
  /** Every transaction the writer ran, for its metrics. */
  readonly flushed = new EventChannel<FlushEvent>('activities.writer.flushed');
  private readonly enabled: boolean;
  private readonly maxRows: number;
  private readonly waitMs: number;
  private queue: PendingRequest[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  /** Every running flush, bounded or not, so shutdown can wait for all of them. */
  private readonly flushing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private batches = 0;
  private failedBatches = 0;
  private committedRows = 0;
  private committedRequests = 0;
  private readonly recent: number[] = [];

  constructor(
    private readonly activities: ActivityRepository,
    config: AppConfig,
  ) {
    ({ enabled: this.enabled, maxRows: this.maxRows, waitMs: this.waitMs } = config.activityBatch);
  }

  /** Resolves with the stored rows, in order, once they are committed; rejects with the error of their statement. */
  enqueue(rows: readonly NewActivity[]): Promise<ActivityRow[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise<ActivityRow[]>((resolve, reject) => {
      const request: PendingRequest = { rows, deadline: performance.now() + this.waitMs, link: sampledLink(), resolve, reject };
      if (!this.enabled) {
        this.track(this.commit([request]));
        return;
      }
      if (this.queuedRows + rows.length > MAX_QUEUED_ROWS) {
        reject(new ServiceUnavailableException('Too many activities are waiting to be written. Retry shortly.'));
        return;
      }
      this.queue.push(request);
      this.queuedRows += rows.length;
      this.pump();
    });
  }

  stats(): ActivityWriterStats {
    return {
      enabled: this.enabled,
      maxRows: this.maxRows,
      waitMs: this.waitMs,
      batches: this.batches,
      failedBatches: this.failedBatches,
      rows: this.committedRows,
      requests: this.committedRequests,
      queuedRows: this.queuedRows,
      queuedRequests: this.queue.length,
      inFlight: this.inFlight,
      recentBatchSizes: [...this.recent],
    };
  }

  /**
   * Runs after the HTTP server has drained and before the DataSource is destroyed (global modules,
   * TypeORM's among them, shut down last): every queued row is written before the pool closes.
   */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pump();
    while (this.flushing.size > 0) await Promise.allSettled(this.flushing);
  }

  /** Starts every flush that is due while a slot is free. Called on enqueue, on the timer and when a flush ends. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < MAX_FLUSHES_IN_FLIGHT) {
      const due = this.closing || this.queuedRows >= this.maxRows || performance.now() >= this.queue[0].deadline;
      if (!due) break;
      this.inFlight++;
      this.track(
        this.commit(this.take()).finally(() => {
          this.inFlight--;
          this.pump();
        }),
      );
    }
    this.arm();
  }

  /**
   * With both slots busy no timer is needed: the ending flush pumps, and meanwhile the queue grows
   * into the next, larger batch. A timer that fires early only re-arms.
   */
  private arm(): void {
    if (this.timer !== undefined || this.queue.length === 0 || this.inFlight >= MAX_FLUSHES_IN_FLIGHT) return;
    const delay = Math.max(0, Math.ceil(this.queue[0].deadline - performance.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  /** The oldest requests whose rows fit in `maxRows`; at least one, however many rows it has. */
  private take(): PendingRequest[] {
    let count = 1;
    let rows = this.queue[0].rows.length;
    while (count < this.queue.length && rows + this.queue[count].rows.length <= this.maxRows) {
      rows += this.queue[count].rows.length;
      count++;
    }
    this.queuedRows -= rows;
    return this.queue.splice(0, count);
  }

  /**
   * Never rejects: every request of the batch is settled instead. Traced, each flush is a trace of
   * its own (it serves many requests, none its parent), linked to the spans of the requests whose
   * rows it carried.
   */
  private async commit(batch: PendingRequest[]): Promise<void> {
    const rows = batch.flatMap((r) => r.rows);
    const started = performance.now();
    const links = batch.flatMap((r) => (r.link === undefined ? [] : [r.link]));
    const span = tracer.startSpan('activities.flush', { root: true, links, attributes: { 'app.batch.rows': rows.length, 'app.batch.requests': batch.length } });
    let inserted: ActivityRow[];
    try {
      inserted = await context.with(trace.setSpan(context.active(), span), () => this.activities.insertMany(rows));
      span.end();
    } catch (err) {
      // The SQLSTATE, not the message: a data error's message may quote a value.
      span.setStatus({ code: SpanStatusCode.ERROR, message: sqlState(err) });
      span.end();
      this.record(rows.length, batch.length, started, false);
      if (batch.length > 1 && isRowError(err)) {
        // Some request's rows are at fault (say its project was deleted meanwhile): halve until
        // each failing request stands alone, so only its sender gets the error.
        const half = Math.ceil(batch.length / 2);
        await this.commit(batch.slice(0, half));
        await this.commit(batch.slice(half));
      } else {
        for (const request of batch) request.reject(err);
      }
      return;
    }
    this.record(rows.length, batch.length, started, true);
    let offset = 0;
    for (const request of batch) {
      request.resolve(inserted.slice(offset, offset + request.rows.length));
      offset += request.rows.length;
    }
  }

  private track(flush: Promise<void>): void {
    this.flushing.add(flush);
    void flush.finally(() => this.flushing.delete(flush));
  }

  private record(rows: number, requests: number, started: number, committed: boolean): void {
    const event: FlushEvent = { rows, requests, seconds: (performance.now() - started) / 1000, committed };
    if (committed) {
      this.batches++;
      this.committedRows += rows;
      this.committedRequests += requests;
      this.recent.push(rows);
      if (this.recent.length > RECENT_BATCHES) this.recent.shift();
    } else {
      this.failedBatches++;
    }
    this.flushed.publish(event);
  }
}
