/** Exponential backoff with full jitter, so instances restarting together spread out. */
export function backoffMs(attempt: number, baseMs = 200, capMs = 5_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
