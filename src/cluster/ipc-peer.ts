/** A request one side of a worker's IPC channel sends the other, and its answer. */
interface IpcRequest {
  readonly ipc: 'req';
  readonly id: number;
  readonly kind: string;
  readonly body: unknown;
}

interface IpcReply {
  readonly ipc: 'res';
  readonly id: number;
  readonly body?: unknown;
  readonly error?: string;
}

/** Sent once by a worker whose handlers are installed: messages sent before it would be lost. */
export const HELLO = { ipc: 'hello' } as const;

export type IpcHandler = (body: unknown) => unknown;

interface Waiting {
  resolve(body: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class IpcClosedError extends Error {
  constructor(reason: string) {
    super(`cluster IPC closed: ${reason}`);
    this.name = 'IpcClosedError';
  }
}

export class IpcTimeoutError extends Error {
  constructor(kind: string, timeoutMs: number) {
    super(`cluster IPC: no answer to ${kind} within ${timeoutMs} ms`);
    this.name = 'IpcTimeoutError';
  }
}

export function isHello(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { ipc?: unknown }).ipc === 'hello';
}

/**
 * Request and response over one node:cluster IPC channel, in both directions: the worker asks the
 * primary (a rate-limit hit, the group's metrics) and the primary asks the worker (apply an
 * invalidation, its metrics). Node's channel only carries one-way messages; ids pair them up.
 */
export class IpcPeer {
  private next = 0;
  private readonly waiting = new Map<number, Waiting>();
  private closed: string | undefined;
  /** Messages of this turn of the event loop, sent together: one serialization and write for all. */
  private outbox: (IpcRequest | IpcReply)[] = [];

  constructor(
    private readonly send: (message: object) => void,
    private readonly handlerFor: (kind: string) => IpcHandler | undefined,
  ) {}

  request<T>(kind: string, body: unknown, timeoutMs?: number): Promise<T> {
    if (this.closed !== undefined) return Promise.reject(new IpcClosedError(this.closed));
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiting.delete(id);
              reject(new IpcTimeoutError(kind, timeoutMs));
            }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (body: unknown) => void, reject, timer });
      const request: IpcRequest = { ipc: 'req', id, kind, body };
      this.post(request);
    });
  }

  /** Takes a message from the channel; false when it is none of ours. */
  receive(message: unknown): boolean {
    if (typeof message !== 'object' || message === null) return false;
    const batch = (message as { ipc?: unknown; m?: unknown }).ipc === 'batch' ? (message as { m: unknown[] }).m : undefined;
    if (Array.isArray(batch)) {
      for (const one of batch) this.receiveOne(one);
      return true;
    }
    return this.receiveOne(message);
  }

  private receiveOne(message: unknown): boolean {
    if (typeof message !== 'object' || message === null) return false;
    const m = message as { ipc?: unknown; id?: unknown; kind?: unknown; body?: unknown; error?: string };
    if (m.ipc === 'res' && typeof m.id === 'number') {
      const waiting = this.waiting.get(m.id);
      if (waiting === undefined) return true;
      this.waiting.delete(m.id);
      clearTimeout(waiting.timer);
      if (m.error !== undefined) waiting.reject(new Error(m.error));
      else waiting.resolve(m.body);
      return true;
    }
    if (m.ipc === 'req' && typeof m.id === 'number' && typeof m.kind === 'string') {
      void this.answer(m as unknown as IpcRequest);
      return true;
    }
    return false;
  }

  /** The other side is gone: every request still waiting fails. */
  close(reason: string): void {
    this.closed = reason;
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(id);
      waiting.reject(new IpcClosedError(reason));
    }
  }

  private async answer(request: IpcRequest): Promise<void> {
    const handler = this.handlerFor(request.kind);
    let reply: IpcReply;
    if (handler === undefined) {
      reply = { ipc: 'res', id: request.id, error: `no handler for ${request.kind}` };
    } else {
      try {
        reply = { ipc: 'res', id: request.id, body: await handler(request.body) };
      } catch (err) {
        reply = { ipc: 'res', id: request.id, error: (err as Error).message };
      }
    }
    this.post(reply);
  }

  /**
   * Under load many requests start in one turn of the event loop (every rate-limited request is
   * one): sending them as one message saves a serialization and a pipe write each, which cost more
   * than the counting they carry (about 50 us per separate message here, measured).
   */
  private post(message: IpcRequest | IpcReply): void {
    this.outbox.push(message);
    if (this.outbox.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const messages = this.outbox;
    this.outbox = [];
    try {
      this.send(messages.length === 1 ? messages[0] : { ipc: 'batch', m: messages });
    } catch (err) {
      for (const message of messages) {
        const waiting = message.ipc === 'req' ? this.waiting.get(message.id) : undefined;
        if (waiting === undefined) continue;
        this.waiting.delete(message.id);
        clearTimeout(waiting.timer);
        waiting.reject(new IpcClosedError((err as Error).message));
      }
    }
  }
}
