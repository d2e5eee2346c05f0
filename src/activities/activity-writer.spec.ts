import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ActivityWriter, FlushEvent, MAX_FLUSHES_IN_FLIGHT, MAX_QUEUED_ROWS } from './activity-writer';
import type { ActivityRow, NewActivity } from './activity.entity';
import type { ActivityRepository } from './activity.repository';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

function rows(count: number, projectId = 'p', agent = 'a'): NewActivity[] {
  return Array.from({ length: count }, (_, i) => ({ projectId, agent, action: `act-${i}`, payloadJson: null }));
}

let nextId = 1;
function stored(input: readonly NewActivity[]): ActivityRow[] {
  return input.map((r) => ({ id: String(nextId++), projectId: r.projectId, agent: r.agent, action: r.action, payload: null, createdAt: 'now' }));
}

/** An insertMany that answers only when the test says so, recording every statement. */
class FakeInsert {
  readonly calls: { rows: readonly NewActivity[]; done: Deferred<ActivityRow[]> }[] = [];
  auto = false;
  failWhen: ((rows: readonly NewActivity[]) => unknown) | undefined;

  readonly repository = {
    insertMany: (input: readonly NewActivity[]): Promise<ActivityRow[]> => {
      const done = deferred<ActivityRow[]>();
      this.calls.push({ rows: input, done });
      const failure = this.failWhen?.(input);
      if (failure !== undefined) done.reject(failure);
      else if (this.auto) done.resolve(stored(input));
      return done.promise;
    },
  } as unknown as ActivityRepository;

  commit(index: number): void {
    this.calls[index].done.resolve(stored(this.calls[index].rows));
  }

  sizes(): number[] {
    return this.calls.map((c) => c.rows.length);
  }
}

function writerWith(env: Record<string, string>, fake = new FakeInsert()) {
  const config = AppConfig.fromEnv({ NODE_ENV: 'test', ...env });
  return { sut: new ActivityWriter(fake.repository, config), fake };
}

function pgError(code: string): Error {
  return Object.assign(new Error(`pg ${code}`), { code });
}

describe('ActivityWriter (group commit)', () => {
  it('gathers concurrent requests into one statement and answers each with its own rows, in order', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '20' });
    fake.auto = true;

    const answers = await Promise.all([sut.enqueue(rows(2, 'p', 'x')), sut.enqueue(rows(1, 'p', 'y')), sut.enqueue(rows(3, 'p', 'z'))]);

    expect(fake.sizes()).toEqual([6]);
    expect(answers.map((a) => a.map((r) => `${r.agent}:${r.action}`))).toEqual([
      ['x:act-0', 'x:act-1'],
      ['y:act-0'],
      ['z:act-0', 'z:act-1', 'z:act-2'],
    ]);
    expect(sut.stats()).toMatchObject({ batches: 1, rows: 6, requests: 3, recentBatchSizes: [6], queuedRows: 0, inFlight: 0 });
  });

  it('answers only after the statement has committed', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_WAIT_MS: '0' });
    let answered = false;
    const answer = sut.enqueue(rows(1)).then(() => (answered = true));

    await tick();
    expect(fake.calls).toHaveLength(1);
    expect(answered).toBe(false);

    fake.commit(0);
    await answer;
    expect(answered).toBe(true);
  });

  it('waits at most ACTIVITY_BATCH_WAIT_MS after the first pending row', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '30' });
    fake.auto = true;
    const started = performance.now();

    void sut.enqueue(rows(1));
    await new Promise((r) => setTimeout(r, 15));
    expect(fake.calls).toHaveLength(0);
    await sut.enqueue(rows(1));

    expect(fake.sizes()).toEqual([2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('flushes as soon as ACTIVITY_BATCH_MAX rows are pending, without waiting', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '3', ACTIVITY_BATCH_WAIT_MS: '1000' });
    fake.auto = true;

    const answers = [sut.enqueue(rows(1)), sut.enqueue(rows(1)), sut.enqueue(rows(1))];
    await tick();

    expect(fake.sizes()).toEqual([3]);
    await Promise.all(answers);
  });

  it('never splits a request: it goes to the next batch whole, and one above the maximum goes alone', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '4', ACTIVITY_BATCH_WAIT_MS: '5' });
    fake.auto = true;

    await Promise.all([sut.enqueue(rows(3)), sut.enqueue(rows(2)), sut.enqueue(rows(9)), sut.enqueue(rows(1))]);

    expect(fake.sizes()).toEqual([3, 2, 9, 1]);
  });

  it('runs at most two statements at once and gathers everything meanwhile into the next batch', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '1000', ACTIVITY_BATCH_WAIT_MS: '0' });
    const answers = [sut.enqueue(rows(1)), sut.enqueue(rows(1))];
    for (let i = 0; i < 50; i++) answers.push(sut.enqueue(rows(1)));
    await tick();

    expect(fake.sizes()).toEqual([1, 1]);
    expect(sut.stats()).toMatchObject({ inFlight: MAX_FLUSHES_IN_FLIGHT, queuedRows: 50, queuedRequests: 50 });

    fake.commit(0);
    await tick();
    expect(fake.sizes()).toEqual([1, 1, 50]);

    fake.commit(1);
    fake.commit(2);
    await Promise.all(answers);
    expect(sut.stats()).toMatchObject({ batches: 3, rows: 52, inFlight: 0 });
  });

  it('answers 503 at once when too many rows are already waiting', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '10000', ACTIVITY_BATCH_WAIT_MS: '0' });
    void sut.enqueue(rows(1));
    void sut.enqueue(rows(1));
    const queued: Promise<ActivityRow[]>[] = [];
    for (let i = 0; i < MAX_QUEUED_ROWS / 1000; i++) queued.push(sut.enqueue(rows(1000)));

    await expect(sut.enqueue(rows(1))).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(sut.stats().queuedRows).toBe(MAX_QUEUED_ROWS);
    fake.auto = true;
    fake.commit(0);
    fake.commit(1);
    await Promise.all(queued);
  });

  it('fails only the request whose rows the database refuses; the others of its batch commit', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '10' });
    fake.auto = true;
    const fkViolation = pgError('23503');
    fake.failWhen = (input) => (input.some((r) => r.projectId === 'deleted') ? { driverError: fkViolation, name: 'QueryFailedError' } : undefined);

    const outcomes = await Promise.allSettled(
      ['p1', 'p2', 'deleted', 'p3', 'p4', 'p5', 'p6'].map((project) => sut.enqueue(rows(2, project))),
    );

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ driverError: fkViolation });
    const committed = fake.calls.filter((c) => !c.rows.some((r) => r.projectId === 'deleted'));
    expect(committed.flatMap((c) => c.rows.map((r) => r.projectId)).sort()).toEqual(['p1', 'p1', 'p2', 'p2', 'p3', 'p3', 'p4', 'p4', 'p5', 'p5', 'p6', 'p6']);
    // Halving: 7 -> 4 + 3 -> 2 + 2 -> 1 + 1, not one retry per request.
    expect(fake.calls.length).toBeLessThanOrEqual(7);
    expect(sut.stats()).toMatchObject({ requests: 6, rows: 12 });
  });

  it('fails the whole batch without retrying when the database itself is unavailable', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '10' });
    const down = pgError('ECONNREFUSED');
    fake.failWhen = () => down;

    const outcomes = await Promise.allSettled([sut.enqueue(rows(1)), sut.enqueue(rows(1)), sut.enqueue(rows(1))]);

    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([down, down, down]);
    expect(fake.calls).toHaveLength(1);
    expect(sut.stats()).toMatchObject({ batches: 0, failedBatches: 1 });
  });

  it('when disabled, writes every request in its own statement at once', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_ENABLED: 'false', ACTIVITY_BATCH_WAIT_MS: '1000' });
    fake.auto = true;

    await Promise.all([sut.enqueue(rows(2)), sut.enqueue(rows(1)), sut.enqueue(rows(1))]);

    expect(fake.sizes()).toEqual([2, 1, 1]);
    expect(sut.stats()).toMatchObject({ enabled: false, batches: 3 });
  });

  it('on shutdown writes everything queued and waits for the statements in flight', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '2', ACTIVITY_BATCH_WAIT_MS: '1000' });
    const answers = [1, 2, 3, 4, 5, 6, 7].map(() => sut.enqueue(rows(1)));
    await tick();
    expect(fake.sizes()).toEqual([2, 2]);

    let closed = false;
    const closing = sut.onApplicationShutdown().then(() => (closed = true));
    for (let i = 0; i < 4; i++) {
      await tick();
      expect(closed).toBe(false);
      fake.commit(i);
    }
    await closing;

    expect(fake.sizes()).toEqual([2, 2, 2, 1]);
    await expect(Promise.all(answers)).resolves.toHaveLength(7);
  });

  it('after shutdown began, writes a new request at once instead of waiting', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '1000' });
    fake.auto = true;
    await sut.onApplicationShutdown();

    const started = performance.now();
    await sut.enqueue(rows(1));

    expect(performance.now() - started).toBeLessThan(500);
    expect(fake.sizes()).toEqual([1]);
  });

  it('tells subscribers the size, duration and outcome of every statement, and survives a failing subscriber', async () => {
    const { sut, fake } = writerWith({ ACTIVITY_BATCH_MAX: '100', ACTIVITY_BATCH_WAIT_MS: '5' });
    fake.auto = true;
    const events: FlushEvent[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    sut.flushed.subscribe(() => {
      throw new Error('broken subscriber');
    });
    sut.flushed.subscribe((e) => events.push(e));

    await Promise.all([sut.enqueue(rows(2)), sut.enqueue(rows(3))]);

    expect(events).toEqual([{ rows: 5, requests: 2, seconds: expect.any(Number), committed: true }]);
    expect(events[0].seconds).toBeGreaterThanOrEqual(0);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ msg: 'event subscriber failed' }));
    warn.mockRestore();
  });
});
