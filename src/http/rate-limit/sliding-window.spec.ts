import { hitWindow, WindowState } from './sliding-window';

function hits(n: number, at: number, ttl: number, limit: number, state?: WindowState) {
  let s = state;
  const results = [];
  for (let i = 0; i < n; i++) {
    const r = hitWindow(s, at, ttl, limit);
    s = r.state;
    results.push(r);
  }
  return { results, state: s! };
}

describe('sliding-window counter', () => {
  const ttl = 1000;

  it('allows exactly `limit` requests in a window, then refuses', () => {
    const { results } = hits(6, 10_000, ttl, 5);

    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);
    expect(results.map((r) => r.count)).toEqual([1, 2, 3, 4, 5, 5]);
  });

  it('does not count refused requests, so a client is let in again as the window slides', () => {
    const { state } = hits(10, 10_000, ttl, 5);

    expect(state.current).toBe(5);
  });

  it('weights the previous window by its remaining overlap: no 2x burst at the edge', () => {
    const { state } = hits(5, 10_999, ttl, 5); // end of window [10000, 11000)

    // Just after the edge the previous window still weighs ~100%: nothing more is allowed.
    expect(hitWindow(state, 11_001, ttl, 5).allowed).toBe(false);
    // Half-way through the next window half of the previous one has faded: 2 more fit (2.5 left).
    const half = hits(3, 11_500, ttl, 5, state);
    expect(half.results.map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('forgets a window that is two windows old', () => {
    const { state } = hits(5, 10_000, ttl, 5);

    expect(hitWindow(state, 12_100, ttl, 5)).toMatchObject({ allowed: true, count: 1 });
  });

  it('reports the time to the window end and, when refused, a retry time that would succeed', () => {
    const { results, state } = hits(6, 11_250, ttl, 5);
    const refused = results[5];

    expect(refused.resetMs).toBe(750);
    expect(refused.retryMs).toBeGreaterThan(0);
    expect(hitWindow(state, 11_250 + refused.retryMs, ttl, 5).allowed).toBe(true);
  });

  it('computes a retry time that succeeds while the previous window fades', () => {
    const full = hits(5, 10_900, ttl, 5).state;
    const refused = hitWindow(full, 11_100, ttl, 5);

    expect(refused.allowed).toBe(false);
    expect(hitWindow(refused.state, 11_100 + refused.retryMs, ttl, 5).allowed).toBe(true);
    expect(hitWindow(refused.state, 11_100 + refused.retryMs - 50, ttl, 5).allowed).toBe(false);
  });
});
