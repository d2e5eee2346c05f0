import { classifyDbError, PoolTimeoutError } from './database.errors';

function pgError(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

function queryFailed(driverError: Error): Error {
  return Object.assign(new Error(`query failed: SELECT secret FROM t WHERE x = 'p'`), { name: 'QueryFailedError', driverError });
}

describe('classifyDbError', () => {
  it.each([
    ['unique violation', queryFailed(pgError('23505')), 409],
    ['foreign key violation', queryFailed(pgError('23503')), 409],
    ['check violation', queryFailed(pgError('23514')), 400],
    ['statement timeout', queryFailed(pgError('57014')), 503],
    ['admin shutdown', pgError('57P01'), 503],
    ['connection refused', pgError('ECONNREFUSED'), 503],
    ['pool timeout', new PoolTimeoutError(100), 503],
    ['terminated connection', new Error('Connection terminated unexpectedly'), 503],
    ['other SQL failure', queryFailed(pgError('42P01')), 500],
  ])('maps %s to %i', (_name, error, status) => {
    expect(classifyDbError(error)?.status).toBe(status);
  });

  it('never carries SQL into the message', () => {
    expect(classifyDbError(queryFailed(pgError('42P01')))?.message).not.toMatch(/SELECT|secret/);
  });

  it('leaves errors that are not from the database alone', () => {
    expect(classifyDbError(new TypeError('x is undefined'))).toBeUndefined();
  });
});
