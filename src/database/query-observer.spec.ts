import { normalizeStatement, operationOf } from './query-observer';

describe('operationOf', () => {
  it.each([
    ['SELECT 1', 'select'],
    ['  insert into t values ($1)', 'insert'],
    ['UPDATE t SET a = $1', 'update'],
    ['DELETE FROM t', 'delete'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'select'],
    ['WITH input AS (SELECT * FROM unnest($1::int[])), a AS (INSERT INTO t SELECT * FROM input RETURNING *) SELECT * FROM a', 'insert'],
    ['BEGIN', 'other'],
  ])('%s -> %s', (sql, operation) => {
    expect(operationOf(sql)).toBe(operation);
  });
});

describe('normalizeStatement', () => {
  it('flattens whitespace and bounds the length', () => {
    expect(normalizeStatement('SELECT\n   a\n FROM t')).toBe('SELECT a FROM t');
    expect(normalizeStatement(`SELECT ${'x'.repeat(1000)}`).length).toBe(501);
  });
});
