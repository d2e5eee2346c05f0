/**
 * Invalidation by tag without tracking keys: every tag has a version, every entry remembers the
 * versions of its tags when its load began, and an entry whose versions are not current is stale.
 * A write bumps its tags; an entry loaded concurrently with that write is thereby stale too.
 *
 * Forgetting a version is the dangerous part: an entry stored before the bump would look current
 * again. So forgetting (by age, or under the CACHE_TAG_VERSIONS_MAX bound) is only ever done in a
 * way that turns such entries into misses:
 * - Local mode (no Redis): versions are a single counter (`seq`) that never repeats, and each entry
 *   also remembers `seq` when its load began. Forgetting a tag raises a floor to the tag's last
 *   version: every entry whose load began before that bump is stale from then on. Forgetting by
 *   age only passes entries already past their life; eviction under the bound can force misses.
 * - Shared mode (Redis): the versions live in Redis and a tag counts only once *confirmed*: its
 *   version was read from Redis while the invalidation subscription was live, and it has stayed
 *   live since (so every later version arrives on the channel). Every drop or (re)connect of the
 *   subscriber starts a new epoch, which unconfirms every tag at once; a forgotten tag is simply
 *   unconfirmed. An unconfirmed tag is a miss on the hot path; `beginConfirm`/`endConfirm`
 *   confirm it in one MGET. A bump made here goes to Redis; until Redis has it, the tag is pending
 *   and cannot be confirmed.
 */
export interface TagVersionsOptions {
  readonly shared: boolean;
  /** Most tags remembered (and most bumps waiting for Redis). */
  readonly maxTags: number;
  /** Longest an entry can be checked against a version: TTL with jitter plus the stale window. */
  readonly entryLifeMs: number;
  /**
   * How long the time of a tag's last bump is kept (see `lastBumpAt`): the replicas' lag allowance,
   * 0 without replicas (then nothing is kept).
   */
  readonly bumpMemoryMs: number;
}

/** The versions a load began with: only a trusted snapshot's result may be stored. */
export interface VersionSnapshot {
  readonly t: number[];
  /** Local mode: `seq` when the load began, compared to the floor. */
  readonly s: number;
  readonly trusted: boolean;
}

/** Tags being read from Redis, with what was known of them when the read was sent. */
export interface ConfirmBatch {
  readonly tags: string[];
  readonly states: TagState[];
  readonly seen: number[];
  readonly epoch: number;
}

/** Bumps being written to Redis: each tag with the local bump it carries. */
export interface BumpBatch {
  readonly tags: readonly string[];
  readonly gens: readonly number[];
  readonly states: readonly (TagState | undefined)[];
  readonly epoch: number;
}

const UNCONFIRMED = -1;

class TagState {
  constructor(
    /** Local mode: `seq` of the last bump. Shared mode: the highest version known from Redis. */
    public v: number,
    /** The epoch this version was confirmed in (local mode: always the one epoch, 0). */
    public e: number,
    /** When it was last bumped or confirmed: the map is kept in this order for the sweep. */
    public at: number,
  ) {}
}

/**
 * The oldest entry of a Map kept in insertion order, in O(1): one live iterator that stays at the
 * front. A fresh iterator per lookup would step over every entry deleted from the front since V8
 * last compacted the table: evicting 1 M tags from a full 100,000-tag map took 58 s that way.
 */
class OldestFirst<K, V> {
  private cursor: MapIterator<[K, V]>;
  /** Read from the cursor, still in the map: nothing before it is. */
  private head: [K, V] | undefined;

  constructor(private readonly map: Map<K, V>) {
    this.cursor = map.entries();
  }

  peek(): [K, V] | undefined {
    while (this.head === undefined || this.map.get(this.head[0]) !== this.head[1]) {
      let next = this.cursor.next();
      // A finished iterator stays finished, even once the map has new entries.
      if (next.done) {
        this.cursor = this.map.entries();
        next = this.cursor.next();
        if (next.done) return (this.head = undefined);
      }
      this.head = next.value;
    }
    return this.head;
  }

  /** `key` was deleted and set again with the same value: it is at the young end now, where the cursor will meet it. */
  moved(key: K): void {
    if (this.head !== undefined && this.head[0] === key) this.head = undefined;
  }
}

export class TagVersions {
  private readonly states = new Map<string, TagState>();
  private readonly oldestState = new OldestFirst(this.states);
  /** Shared mode: tag -> the local bump (a `seq` value) that Redis has not acknowledged yet. */
  private readonly pending = new Map<string, number>();
  private readonly oldestPending = new OldestFirst(this.pending);
  /** Pending tags whose write to Redis failed: retried by `takeFailed`. */
  private readonly failed = new Set<string>();
  private seq = 0;
  private floor = 0;
  private epoch = 0;
  private live = false;
  /** A pending bump was dropped under the bound: nothing is trusted until it cannot matter. */
  private lostBumps = false;
  private distrustUntil = 0;
  /** Tag -> when its last bump was made or learned here, oldest first; only the last `bumpMemoryMs`. */
  private readonly bumpTimes = new Map<string, number>();
  private readonly oldestBump = new OldestFirst(this.bumpTimes);
  /** Bumps until this time may have gone unnoticed here (subscription down, times dropped under the bound). */
  private unnoticedUntil = 0;

  constructor(private readonly o: TagVersionsOptions) {}

  get shared(): boolean {
    return this.o.shared;
  }

  get size(): number {
    return this.states.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get failedCount(): number {
    return this.failed.size;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** The hot path: is an entry stored with versions `t` (load begun at `s`) current and trusted? */
  isCurrent(tags: readonly string[], t: readonly number[], s: number): boolean {
    if (s < this.floor) return false;
    const shared = this.o.shared;
    const epoch = this.epoch;
    for (let i = 0; i < tags.length; i++) {
      const state = this.states.get(tags[i]);
      if (state === undefined) {
        if (shared || t[i] !== 0) return false;
      } else if (state.v !== t[i] || state.e !== epoch) {
        return false;
      }
    }
    return true;
  }

  /** Whether every tag is confirmed (always, in local mode). */
  confirmed(tags: readonly string[]): boolean {
    if (!this.o.shared) return true;
    for (const tag of tags) if (this.states.get(tag)?.e !== this.epoch) return false;
    return true;
  }

  snapshot(tags: readonly string[]): VersionSnapshot {
    const t = new Array<number>(tags.length);
    let trusted = true;
    for (let i = 0; i < tags.length; i++) {
      t[i] = this.token(tags[i]);
      if (this.o.shared && (t[i] < 0 || this.states.get(tags[i])?.e !== this.epoch)) trusted = false;
    }
    return { t, s: this.seq, trusted };
  }

  /** No bump, here or learned from Redis, since `t` was taken: a load begun then may be shared. */
  unchanged(tags: readonly string[], t: readonly number[]): boolean {
    for (let i = 0; i < tags.length; i++) if (this.token(tags[i]) !== t[i]) return false;
    return true;
  }

  /**
   * A write here. Local mode: the new version. Shared mode: the tag stops being trusted at once and
   * waits for Redis; returns the bump's number for `sending`.
   */
  bump(tag: string, now = Date.now()): number {
    const gen = ++this.seq;
    this.noteBump(tag, now);
    if (!this.o.shared) {
      const state = this.states.get(tag);
      if (state === undefined) this.insert(tag, new TagState(gen, 0, now));
      else this.touch(tag, state, gen, now);
      return gen;
    }
    if (!this.pending.has(tag) && this.pending.size >= this.o.maxTags) this.dropOldestPending();
    this.pending.delete(tag);
    this.pending.set(tag, gen);
    this.failed.delete(tag);
    const state = this.states.get(tag);
    if (state === undefined) this.insert(tag, new TagState(0, UNCONFIRMED, now));
    else this.touch(tag, state, state.v, now, UNCONFIRMED);
    return gen;
  }

  /** Bumps about to be written to Redis (captures the epoch, so a drop meanwhile confirms nothing). */
  sending(tags: readonly string[], gens: readonly number[]): BumpBatch {
    return { tags, gens, states: tags.map((tag) => this.states.get(tag)), epoch: this.trustworthy() ? this.epoch : UNCONFIRMED };
  }

  /** Redis has the bumps and answered each tag's new version. */
  bumped(batch: BumpBatch, versions: readonly number[], now = Date.now()): void {
    batch.tags.forEach((tag, i) => {
      const state = this.states.get(tag);
      if (state !== undefined && versions[i] > state.v) state.v = versions[i];
      // A later bump of the same tag is on its way and will settle it.
      if (this.pending.get(tag) !== batch.gens[i]) return;
      this.pending.delete(tag);
      this.failed.delete(tag);
      if (state !== undefined && state === batch.states[i] && batch.epoch === this.epoch) this.touch(tag, state, state.v, now, this.epoch);
    });
    if (this.lostBumps && this.pending.size === 0) {
      this.lostBumps = false;
      this.distrustUntil = now + this.o.entryLifeMs;
    }
  }

  bumpFailed(batch: BumpBatch): void {
    batch.tags.forEach((tag, i) => {
      if (this.pending.get(tag) === batch.gens[i]) this.failed.add(tag);
    });
  }

  /** Up to `max` bumps whose write to Redis failed, to send again. */
  takeFailed(max: number): BumpBatch | undefined {
    if (this.failed.size === 0) return undefined;
    const tags: string[] = [];
    for (const tag of this.failed) {
      if (tags.length >= max) break;
      tags.push(tag);
    }
    for (const tag of tags) this.failed.delete(tag);
    return this.sending(tags, tags.map((tag) => this.pending.get(tag)!));
  }

  /**
   * Tags of `tags` to read from Redis, or undefined when there is nothing to confirm or nothing can
   * be confirmed now (the subscription is not live).
   */
  beginConfirm(tags: readonly string[], now = Date.now()): ConfirmBatch | undefined {
    if (!this.o.shared || !this.trustworthy(now)) return undefined;
    const batch: ConfirmBatch = { tags: [], states: [], seen: [], epoch: this.epoch };
    for (const tag of tags) {
      if (this.pending.has(tag)) continue;
      let state = this.states.get(tag);
      if (state?.e === this.epoch) continue;
      if (state === undefined) {
        state = new TagState(0, UNCONFIRMED, now);
        this.insert(tag, state);
      }
      if (batch.tags.includes(tag)) continue;
      batch.tags.push(tag);
      batch.states.push(state);
      batch.seen.push(state.v);
    }
    return batch.tags.length === 0 ? undefined : batch;
  }

  /** The versions Redis answered for a batch (0 for a tag never bumped, or whose key expired). */
  endConfirm(batch: ConfirmBatch, versions: readonly number[], now = Date.now()): void {
    if (batch.epoch !== this.epoch) return;
    batch.tags.forEach((tag, i) => {
      const state = batch.states[i];
      // Forgotten meanwhile (its replacement knows nothing of this read), or bumped here meanwhile.
      if (this.states.get(tag) !== state || this.pending.has(tag)) return;
      // Redis is the truth, unless a newer version arrived on the channel while the read was out.
      const v = state.v === batch.seen[i] ? versions[i] : Math.max(state.v, versions[i]);
      // A bump whose message is still on its way: its time is now, as far as this instance can tell.
      if (batch.seen[i] > 0 && v > batch.seen[i]) this.noteBump(tag, now);
      this.touch(tag, state, v, now, this.epoch);
    });
  }

  /** A version another instance published: versions only move forward. */
  observe(tag: string, v: number, now = Date.now()): void {
    this.noteBump(tag, now);
    const state = this.states.get(tag);
    if (state !== undefined && v > state.v) state.v = v;
  }

  /** The invalidation subscription went live or stopped being live: either way, a new epoch. */
  setLive(live: boolean, now = Date.now()): void {
    this.live = live;
    this.epoch++;
    // Bumps published while the subscription was down were missed, and with them their times.
    if (live && this.o.bumpMemoryMs > 0) this.unnoticedUntil = now;
  }

  /**
   * When the last bump of any of `tags` was made here or learned (from Redis or the cluster
   * primary), in local time, so never before the write it follows was committed: 0 when none
   * happened within `bumpMemoryMs`. A load read from a lagging replica may miss that write until
   * `bumpMemoryMs` after this.
   */
  lastBumpAt(tags: readonly string[]): number {
    let last = this.unnoticedUntil;
    for (const tag of tags) {
      const at = this.bumpTimes.get(tag);
      if (at !== undefined && at > last) last = at;
    }
    return last;
  }

  /** Forgets tags untouched for an entry's life, oldest first, at most `budget` of them. */
  sweep(now = Date.now(), budget = Number.POSITIVE_INFINITY): number {
    this.forgetBumpTimes(now);
    let n = 0;
    for (let oldest = this.oldestState.peek(); oldest !== undefined && n < budget; oldest = this.oldestState.peek()) {
      if (now - oldest[1].at <= this.o.entryLifeMs) break;
      this.forget(oldest[0], oldest[1]);
      n++;
    }
    return n;
  }

  private noteBump(tag: string, now: number): void {
    if (this.o.bumpMemoryMs === 0) return;
    this.forgetBumpTimes(now);
    if (!this.bumpTimes.has(tag) && this.bumpTimes.size >= this.o.maxTags) {
      // Whichever tag it was, any tag may have been bumped then.
      const [oldest, at] = this.oldestBump.peek()!;
      this.bumpTimes.delete(oldest);
      if (at > this.unnoticedUntil) this.unnoticedUntil = at;
    }
    this.bumpTimes.delete(tag);
    this.oldestBump.moved(tag);
    this.bumpTimes.set(tag, now);
  }

  /** Bump times older than `bumpMemoryMs` no longer matter: a load begun now began after their allowance. */
  private forgetBumpTimes(now: number): void {
    for (let oldest = this.oldestBump.peek(); oldest !== undefined && now - oldest[1] >= this.o.bumpMemoryMs; oldest = this.oldestBump.peek()) {
      this.bumpTimes.delete(oldest[0]);
    }
  }

  private trustworthy(now = Date.now()): boolean {
    return this.live && !this.lostBumps && now >= this.distrustUntil;
  }

  /** What a load's snapshot records for a tag: its version, or a pending local bump (negative). */
  private token(tag: string): number {
    const gen = this.o.shared ? this.pending.get(tag) : undefined;
    return gen !== undefined ? -gen : (this.states.get(tag)?.v ?? 0);
  }

  private insert(tag: string, state: TagState): void {
    if (this.states.size >= this.o.maxTags) {
      const [oldest, old] = this.oldestState.peek()!;
      this.forget(oldest, old);
    }
    this.states.set(tag, state);
  }

  /** Updates a state and moves it to the young end of the map. */
  private touch(tag: string, state: TagState, v: number, now: number, e = state.e): void {
    state.v = v;
    state.e = e;
    state.at = now;
    this.states.delete(tag);
    this.oldestState.moved(tag);
    this.states.set(tag, state);
  }

  private forget(tag: string, state: TagState): void {
    this.states.delete(tag);
    if (!this.o.shared && state.v > this.floor) this.floor = state.v;
  }

  private dropOldestPending(): void {
    const [oldest] = this.oldestPending.peek()!;
    this.pending.delete(oldest);
    this.failed.delete(oldest);
    // That write may never reach Redis: entries stored before it could look current anywhere,
    // here included, until they expire. Trust nothing until the rest is out and that time passed.
    this.lostBumps = true;
    this.epoch++;
  }
}
