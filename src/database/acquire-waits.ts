export interface AcquireStats {
  readonly count: number;
  readonly timeouts: number;
  readonly prePingFailures: number;
  readonly waitMsTotal: number;
  readonly waitMsMax: number;
  /** The most recent waits (bounded), oldest first. */
  readonly recentWaitsMs: readonly number[];
}

const RECENT_WAITS = 256;

/** One pool's acquire waits: totals since start and the latest waits in a ring buffer. */
export class AcquireWaits {
  private count = 0;
  private waitMsTotal = 0;
  private waitMsMax = 0;
  private readonly recent: number[] = [];
  private recentNext = 0;
  timeouts = 0;
  prePingFailures = 0;

  waited(ms: number): void {
    this.count++;
    this.waitMsTotal += ms;
    if (ms > this.waitMsMax) this.waitMsMax = ms;
    if (this.recent.length < RECENT_WAITS) this.recent.push(ms);
    else this.recent[this.recentNext] = ms;
    this.recentNext = (this.recentNext + 1) % RECENT_WAITS;
  }

  stats(): AcquireStats {
    const recent =
      this.recent.length < RECENT_WAITS ? [...this.recent] : [...this.recent.slice(this.recentNext), ...this.recent.slice(0, this.recentNext)];
    return {
      count: this.count,
      timeouts: this.timeouts,
      prePingFailures: this.prePingFailures,
      waitMsTotal: this.waitMsTotal,
      waitMsMax: this.waitMsMax,
      recentWaitsMs: recent,
    };
  }
}
