import { performance } from 'node:perf_hooks';
import { backoffMs } from './backoff';

// A replica that failed is left alone for about a second, then longer while it keeps failing: the
// requests in between go straight to the primary instead of each paying a refused connect (or a
// full pool timeout when the replica's host stopped answering).
const DOWN_BASE_MS = 1_000;
const DOWN_CAP_MS = 30_000;

/** The pool name of the replica at `index` in DATABASE_REPLICA_URLS (and TypeORM's `driver.slaves`). */
export function replicaPoolName(index: number): string {
  return `replica-${index}`;
}

interface ReplicaState {
  downUntil: number;
  failures: number;
}

/** Which replica serves the next lag-tolerant read, and which ones are sitting out a failure. */
export class ReplicaRouter {
  private readonly states: ReplicaState[];
  private next = 0;

  constructor(
    count: number,
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    this.states = Array.from({ length: count }, () => ({ downUntil: 0, failures: 0 }));
  }

  /**
   * The least busy replica that is not marked down, `busy(index)` telling how busy each is; ties go
   * to the next one in turn, so idle replicas share the reads. undefined when none is available.
   */
  choose(busy: (index: number) => number): number | undefined {
    const count = this.states.length;
    const now = this.now();
    let chosen: number | undefined;
    let least = Infinity;
    for (let step = 0; step < count; step++) {
      const index = (this.next + step) % count;
      if (this.states[index].downUntil > now) continue;
      const load = busy(index);
      if (load < least) {
        chosen = index;
        least = load;
      }
    }
    if (chosen !== undefined) this.next = (chosen + 1) % count;
    return chosen;
  }

  /** Marks the replica down; answers for how long (ms), which grows with consecutive failures. */
  failed(index: number): number {
    const state = this.states[index];
    const ms = backoffMs(state.failures, DOWN_BASE_MS, DOWN_CAP_MS, this.random);
    state.downUntil = this.now() + ms;
    state.failures++;
    return ms;
  }

  succeeded(index: number): void {
    this.states[index].failures = 0;
  }

  isDown(index: number): boolean {
    return this.states[index].downUntil > this.now();
  }
}
