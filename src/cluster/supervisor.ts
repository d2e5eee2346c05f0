import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import { backoffMs } from '../database/backoff';

// A worker that stayed up this long is healthy again: its next crash restarts it quickly.
const STABLE_MS = 30_000;

export interface SupervisorOptions {
  readonly workers: number;
  /** Added to every worker's environment. */
  readonly env: Record<string, string>;
  readonly onFork: (worker: Worker, slot: number) => void;
  readonly onExit: (worker: Worker, slot: number) => void;
}

/**
 * Forks one worker per slot (1..N) and keeps each slot filled: a worker that dies unexpectedly is
 * replaced after an exponential backoff (a worker that crashes at boot does not spin the CPU),
 * each restart logged. `stop` forwards a signal to every worker and waits for them to drain.
 */
export class Supervisor {
  private readonly logger = new Logger('Supervisor');
  private readonly slots = new Map<number, Worker>();
  private readonly crashes = new Map<number, number>();
  private readonly restarts = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(private readonly o: SupervisorOptions) {}

  start(): void {
    for (let slot = 1; slot <= this.o.workers; slot++) this.fork(slot);
  }

  /** Sends `signal` to every worker and resolves once all have exited: true if every one exited 0. */
  async stop(signal: NodeJS.Signals): Promise<boolean> {
    this.stopping = true;
    for (const timer of this.restarts) clearTimeout(timer);
    const workers = [...this.slots.values()].filter((w) => !w.isDead());
    const exits = workers.map((w) => once(w, 'exit') as Promise<[number | null, string | null]>);
    for (const worker of workers) worker.process.kill(signal);
    const codes = await Promise.all(exits);
    return codes.every(([code]) => code === 0);
  }

  private fork(slot: number): void {
    const worker = cluster.fork(this.o.env);
    const started = Date.now();
    this.slots.set(slot, worker);
    this.o.onFork(worker, slot);
    worker.once('online', () => this.logger.log(`worker ${slot} started (pid ${worker.process.pid})`));
    worker.once('exit', (code: number | null, signal: string | null) => {
      this.o.onExit(worker, slot);
      if (this.stopping) return;
      const crashes = Date.now() - started >= STABLE_MS ? 0 : (this.crashes.get(slot) ?? 0);
      this.crashes.set(slot, crashes + 1);
      const delay = backoffMs(crashes);
      this.logger.warn(`worker ${slot} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}): restarting in ${delay} ms`);
      const timer = setTimeout(() => {
        this.restarts.delete(timer);
        if (!this.stopping) this.fork(slot);
      }, delay);
      this.restarts.add(timer);
    });
  }
}
