import { PoolObserver, queuePoolStatus, snapshotOf } from './pool-observer';

describe('pool arithmetic (SQLAlchemy QueuePool semantics)', () => {
  it('reports negative overflow until pool_size connections are open', () => {
    const sut = snapshotOf('primary', { total: 3, idle: 3, waiting: 0, checkedOut: 0 }, 10, 5, 0);

    expect(sut).toMatchObject({ pool_size: 10, max_overflow: 5, max: 15, checked_in: 3, checked_out: 0, overflow: -7 });
  });

  it('reports positive overflow once connections beyond pool_size are open', () => {
    const sut = snapshotOf('primary', { total: 13, idle: 0, waiting: 4, checkedOut: 13 }, 10, 5, 2);

    expect(sut).toMatchObject({ checked_out: 13, overflow: 3, waiting: 4, timeouts: 2 });
  });

  it("formats QueuePool.status() exactly as SQLAlchemy does", () => {
    const snapshot = snapshotOf('primary', { total: 3, idle: 3, waiting: 0, checkedOut: 0 }, 10, 10, 0);

    expect(queuePoolStatus(snapshot)).toBe(
      'Pool size: 10  Connections in pool: 3 Current Overflow: -7 Current Checked out connections: 0',
    );
  });
});

describe('pre-ping (PoolObserver.attach on a stand-in pool)', () => {
  class FakeClient {
    released: unknown[] = [];
    constructor(private readonly alive: boolean) {}
    async query(): Promise<unknown> {
      if (!this.alive) throw new Error('Connection terminated unexpectedly');
      return { rows: [] };
    }
    release = (err?: unknown) => this.released.push(err ?? 'ok');
  }

  function fakePool(clients: FakeClient[]) {
    const listeners: Record<string, ((...a: unknown[]) => void)[]> = {};
    return {
      totalCount: 1,
      idleCount: 1,
      waitingCount: 0,
      on(event: string, fn: (...a: unknown[]) => void) {
        (listeners[event] ??= []).push(fn);
      },
      emit(event: string, ...args: unknown[]) {
        for (const fn of listeners[event] ?? []) fn(...args);
      },
      async connect() {
        const client = clients.shift()!;
        this.emit('acquire', client);
        return client;
      },
    };
  }

  const config = { pool: { size: 1, maxOverflow: 1, timeoutMs: 100, prePing: true, prePingIdleMs: 0 }, poolMax: 2 };

  it('pings a connection that sat idle, drops it when dead and hands out the next one', async () => {
    const reused = new FakeClient(false);
    const fresh = new FakeClient(true);
    const pool = fakePool([reused, fresh]);
    const sut = new PoolObserver(config as never);
    sut.attach(pool as never);
    pool.emit('release', undefined, reused); // it was used before and went idle

    const client = await (pool.connect as () => Promise<FakeClient>)();

    expect(client).toBe(fresh);
    expect(reused.released).toHaveLength(1);
    expect(reused.released[0]).toBeInstanceOf(Error);
    expect(sut.acquireStats().prePingFailures).toBe(1);
  });

  it('does not ping with DB_PRE_PING off', async () => {
    const reused = new FakeClient(false);
    const pool = fakePool([reused]);
    const sut = new PoolObserver({ ...config, pool: { ...config.pool, prePing: false } } as never);
    sut.attach(pool as never);
    pool.emit('release', undefined, reused);

    expect(await (pool.connect as () => Promise<FakeClient>)()).toBe(reused);
    expect(sut.acquireStats().prePingFailures).toBe(0);
  });
});
