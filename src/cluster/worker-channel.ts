import cluster from 'node:cluster';
import { HELLO, IpcHandler, IpcPeer } from './ipc-peer';

/** What workers and the primary ask each other. */
export const IPC = {
  /** Worker -> primary -> every other worker: tags to bump; answered once all have applied them. */
  invalidate: 'invalidate',
  /** Worker -> primary: one hit on a rate-limit counter the primary keeps for the whole group. */
  rateLimit: 'rate-limit',
  /** Worker -> primary: the group's metrics as Prometheus text. Primary -> worker: its own, as JSON. */
  groupMetrics: 'group-metrics',
  workerMetrics: 'worker-metrics',
  /** Worker -> primary: every worker's request timings. Primary -> worker: its own. */
  groupTimings: 'group-timings',
  workerTimings: 'worker-timings',
  /** Worker -> primary -> every worker: clear the request timings. */
  resetTimings: 'reset-timings',
} as const;

let shared: WorkerChannel | undefined;

/**
 * A cluster worker's channel to its primary (disabled in a process that is no worker: one
 * process, or the tests' in-process apps). One per process, opened before the application is
 * built so that a request of the primary's never goes unanswered: until a handler is installed
 * the answer is an error, which the primary reads as "nothing here to update" (no cache yet).
 * When the primary is gone the channel closes and the worker drains and stops (SIGTERM to itself):
 * the listening socket belonged to the primary anyway.
 */
export class WorkerChannel {
  readonly enabled: boolean;
  private readonly handlers = new Map<string, IpcHandler>();
  private readonly peer: IpcPeer | undefined;

  private constructor() {
    this.enabled = cluster.isWorker && process.send !== undefined;
    if (!this.enabled) return;
    const peer = new IpcPeer(
      (message) => process.send!(message),
      (kind) => this.handlers.get(kind),
    );
    this.peer = peer;
    process.on('message', (message) => peer.receive(message));
    process.once('disconnect', () => {
      peer.close('the primary disconnected');
      process.kill(process.pid, 'SIGTERM');
    });
    process.send!(HELLO);
  }

  static shared(): WorkerChannel {
    shared ??= new WorkerChannel();
    return shared;
  }

  /** Asks the primary; rejects when the channel is closed or (with a timeout) too slow. */
  request<T>(kind: string, body: unknown, timeoutMs?: number): Promise<T> {
    if (this.peer === undefined) return Promise.reject(new Error('not a cluster worker'));
    return this.peer.request<T>(kind, body, timeoutMs);
  }

  /** Answers the primary's `kind` requests; returns the function that stops answering. */
  handle(kind: string, handler: IpcHandler): () => void {
    this.handlers.set(kind, handler);
    return () => {
      if (this.handlers.get(kind) === handler) this.handlers.delete(kind);
    };
  }
}
