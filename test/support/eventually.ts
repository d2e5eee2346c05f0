const POLL_MS = 10;

/** Polls `probe` until `ok` holds for its value: that value and how long it took to come. */
export async function waitFor<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 5_000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (ok(value)) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Polls until `check` answers true. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  await waitFor(check, (done) => done, timeoutMs);
}
