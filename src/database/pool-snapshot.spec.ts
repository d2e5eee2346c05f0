import { queuePoolStatus, snapshotOf } from './pool-snapshot';

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
