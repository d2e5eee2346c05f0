/** Statistics without I/O, shared by the bench and the tests (unit tested in stats.spec.ts). */

/** Middle value; the mean of the two middle values for an even count; NaN when empty. */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

/**
 * The p-th percentile (0..100) with linear interpolation between closest ranks (the "type 7"
 * definition of R and numpy's default): p0 is the minimum, p100 the maximum. NaN when empty.
 * `sorted` skips the copy and sort when the caller already has ascending values.
 */
export function percentile(values: ArrayLike<number>, p: number, sorted = false): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = values.length;
  if (n === 0) return Number.NaN;
  const data = sorted ? values : sortedCopy(values);
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  if (lo === hi) return data[lo];
  return data[lo] + (data[hi] - data[lo]) * (rank - lo);
}

/** Ascending numeric order (a plain Array sort would compare as text). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(values);
  copy.sort();
  return copy;
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** `a / b`; NaN when either is not a finite number or b is not positive. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return Number.NaN;
  return a / b;
}

/** Rounds for display; NaN stays NaN. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
