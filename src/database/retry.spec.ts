import { PoolTimeoutError } from './database.errors';
import { isTransient, retryIdempotent } from './retry';

const connectionError = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('retryIdempotent', () => {
  it('retries transient connection errors and returns the eventual result', async () => {
    let calls = 0;
    const result = await retryIdempotent(async () => {
      calls++;
      if (calls < 3) throw connectionError();
      return 'ok';
    });

    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await expect(
      retryIdempotent(async () => {
        calls++;
        throw connectionError();
      }, 2),
    ).rejects.toThrow('ECONNRESET');
    expect(calls).toBe(2);
  });

  it.each([
    ['a constraint violation', Object.assign(new Error('duplicate'), { code: '23505' })],
    ['a pool timeout (the caller already waited)', new PoolTimeoutError(100)],
    ['a programming error', new TypeError('x is undefined')],
  ])('does not retry %s', async (_name, error) => {
    let calls = 0;
    await expect(
      retryIdempotent(async () => {
        calls++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('classifies server shutdowns and dropped connections as transient', () => {
    expect(isTransient(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(new PoolTimeoutError(1))).toBe(false);
  });
});
