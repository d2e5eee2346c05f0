import { PoolTimeoutError } from './database.errors';
import { PoolObserver } from './pool-observer';

describe('PoolObserver.attach on a stand-in pool', () => {
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
        const client = clients.shift();
        if (!client) throw new Error('timeout exceeded when trying to connect');
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

  it('turns pg-pool\'s acquire timeout into a PoolTimeoutError, counted and published', async () => {
    const pool = fakePool([]);
    const sut = new PoolObserver(config as never);
    const published: string[] = [];
    sut.events.timedOut.subscribe((name) => published.push(name));
    sut.attach(pool as never);

    await expect((pool.connect as () => Promise<FakeClient>)()).rejects.toBeInstanceOf(PoolTimeoutError);

    expect(published).toEqual(['primary']);
    expect(sut.acquireStats().timeouts).toBe(1);
    expect(sut.snapshot().timeouts).toBe(1);
  });

  it('publishes the wait of each acquire, the opening of a new connection and the time it was held', async () => {
    const client = new FakeClient(true);
    const pool = fakePool([client, client]);
    const sut = new PoolObserver({ ...config, pool: { ...config.pool, prePing: false } } as never);
    const seen: string[] = [];
    sut.events.acquired.subscribe(({ pool: name, ms }) => seen.push(`acquired ${name} ${ms >= 0}`));
    sut.events.created.subscribe(({ pool: name }) => seen.push(`created ${name}`));
    sut.events.released.subscribe(({ pool: name, ms }) => seen.push(`released ${name} ${ms >= 0}`));
    sut.attach(pool as never, 'replica-0');

    await (pool.connect as () => Promise<FakeClient>)();
    pool.emit('release', undefined, client);
    await (pool.connect as () => Promise<FakeClient>)();

    expect(seen).toEqual(['created replica-0', 'acquired replica-0 true', 'released replica-0 true', 'acquired replica-0 true']);
    expect(sut.acquireStats('replica-0').count).toBe(2);
    expect(sut.snapshot('replica-0').checked_out).toBe(1);
  });
});
