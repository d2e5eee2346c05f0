import type { Worker } from 'node:cluster';
import { IpcHandler, IpcPeer, isHello } from './ipc-peer';

/**
 * The primary's end of every worker's channel: answers the workers' requests with the handlers it
 * was given (which may ask the other workers in turn) and asks workers itself. A worker counts
 * from its hello on: before that it has nothing to update and could not answer.
 */
export class PrimaryBus {
  private readonly peers = new Map<Worker, IpcPeer>();

  constructor(private readonly handlers: Readonly<Record<string, (body: unknown, from: Worker) => unknown>>) {}

  attach(worker: Worker): void {
    worker.on('message', (message: unknown) => {
      if (isHello(message)) {
        const handlerFor = (kind: string): IpcHandler | undefined => {
          const handler = this.handlers[kind];
          return handler === undefined ? undefined : (body) => handler(body, worker);
        };
        this.peers.set(worker, new IpcPeer((m) => worker.send(m), handlerFor));
        return;
      }
      this.peers.get(worker)?.receive(message);
    });
    worker.once('exit', () => {
      this.peers.get(worker)?.close('the worker exited');
      this.peers.delete(worker);
    });
  }

  /** Workers whose channel is open, but `except`. */
  workers(except?: Worker): Worker[] {
    return [...this.peers.keys()].filter((w) => w !== except);
  }

  ask<T>(worker: Worker, kind: string, body: unknown, timeoutMs: number): Promise<T> {
    const peer = this.peers.get(worker);
    if (peer === undefined) return Promise.reject(new Error(`worker ${worker.id} has no open channel`));
    return peer.request<T>(kind, body, timeoutMs);
  }
}
