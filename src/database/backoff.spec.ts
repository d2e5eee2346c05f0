import { backoffMs } from './backoff';

describe('backoffMs', () => {
  it('doubles the ceiling per attempt, caps it, and jitters within its upper half', () => {
    expect(backoffMs(0, 200, 5000, () => 0)).toBe(100);
    expect(backoffMs(0, 200, 5000, () => 1)).toBe(200);
    expect(backoffMs(3, 200, 5000, () => 1)).toBe(1600);
    expect(backoffMs(10, 200, 5000, () => 1)).toBe(5000);
    expect(backoffMs(10, 200, 5000, () => 0)).toBe(2500);
  });
});
