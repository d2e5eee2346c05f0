/**
 * Sliding-window counter: two fixed windows, the previous one weighted by how much of it still
 * overlaps the sliding window. O(1) time and memory per key, and no burst of 2x the limit at a
 * window edge as a plain fixed window allows. The same arithmetic runs in Redis (WINDOW_LUA).
 */
export interface WindowState {
  /** Start (ms) of the current fixed window, aligned to multiples of ttl. */
  start: number;
  current: number;
  previous: number;
}

export interface WindowHit {
  readonly state: WindowState;
  readonly allowed: boolean;
  /** Requests counted in the sliding window, this one included when allowed. */
  readonly count: number;
  /** Until the current fixed window ends. */
  readonly resetMs: number;
  /** When refused: until one more request would be allowed. */
  readonly retryMs: number;
}

export function hitWindow(state: WindowState | undefined, now: number, ttl: number, limit: number): WindowHit {
  const start = Math.floor(now / ttl) * ttl;
  let current = 0;
  let previous = 0;
  if (state?.start === start) {
    current = state.current;
    previous = state.previous;
  } else if (state?.start === start - ttl) {
    previous = state.current;
  }
  const elapsed = now - start;
  const weight = (ttl - elapsed) / ttl;
  const estimate = previous * weight + current;
  const resetMs = ttl - elapsed;

  if (estimate + 1 > limit) {
    return { state: { start, current, previous }, allowed: false, count: Math.ceil(estimate), resetMs, retryMs: retryAfter(previous, current, limit, ttl, elapsed) };
  }
  current += 1;
  return { state: { start, current, previous }, allowed: true, count: Math.ceil(previous * weight + current), resetMs, retryMs: 0 };
}

/** Time until previous * weight + current + 1 <= limit, as the previous window's share fades. */
function retryAfter(previous: number, current: number, limit: number, ttl: number, elapsed: number): number {
  const untilWindowEnd = ttl - elapsed;
  if (current + 1 > limit || previous === 0) {
    // Nothing fades in time within this window: next window, where this window becomes "previous".
    const nextWeightNeeded = (limit - 1) / Math.max(current, 1);
    return untilWindowEnd + Math.max(0, Math.ceil((1 - Math.min(1, nextWeightNeeded)) * ttl));
  }
  const weightNeeded = (limit - 1 - current) / previous;
  return Math.max(1, Math.ceil((1 - weightNeeded) * ttl - elapsed));
}

/**
 * The same window in Redis, atomic per key. KEYS[1] = key; ARGV = ttl ms, limit. Uses the Redis
 * clock so every instance shares one notion of time. Returns {allowed, count, resetMs, retryMs}.
 */
export const WINDOW_LUA = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = math.floor(now / ttl) * ttl
local s = tonumber(redis.call('HGET', KEYS[1], 's') or '-1')
local current, previous = 0, 0
if s == start then
  current = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
  previous = tonumber(redis.call('HGET', KEYS[1], 'p') or '0')
elseif s == start - ttl then
  previous = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
end
local elapsed = now - start
local weight = (ttl - elapsed) / ttl
local estimate = previous * weight + current
local resetMs = ttl - elapsed
if estimate + 1 > limit then
  local retry
  if current + 1 > limit or previous == 0 then
    local need = (limit - 1) / math.max(current, 1)
    if need > 1 then need = 1 end
    retry = resetMs + math.max(0, math.ceil((1 - need) * ttl))
  else
    retry = math.max(1, math.ceil((1 - (limit - 1 - current) / previous) * ttl - elapsed))
  end
  redis.call('HSET', KEYS[1], 's', start, 'c', current, 'p', previous)
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return {0, math.ceil(estimate), resetMs, retry}
end
current = current + 1
redis.call('HSET', KEYS[1], 's', start, 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return {1, math.ceil(previous * weight + current), resetMs, 0}
`;
