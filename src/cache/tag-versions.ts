/**
 * Invalidation by tag without tracking keys: every tag has a version, every entry remembers the
 * versions of its tags when its load began, and an entry whose versions are not current is stale.
 * A write bumps its tags; an entry loaded concurrently with that write is thereby stale too.
 * Versions of tags never bumped are 0, so the map only holds tags that were written to; entries
 * older than the longest TTL cannot care about a version, so old tags are swept.
 */
export class TagVersions {
  private readonly versions = new Map<string, { v: number; at: number }>();

  constructor(private readonly forgetAfterMs: number) {}

  current(tag: string): number {
    return this.versions.get(tag)?.v ?? 0;
  }

  snapshot(tags: readonly string[]): number[] {
    return tags.map((t) => this.current(t));
  }

  matches(tags: readonly string[], snapshot: readonly number[]): boolean {
    for (let i = 0; i < tags.length; i++) if (this.current(tags[i]) !== snapshot[i]) return false;
    return true;
  }

  /** Local bump (no Redis, or Redis down). */
  bump(tag: string, now = Date.now()): number {
    const v = this.current(tag) + 1;
    this.versions.set(tag, { v, at: now });
    return v;
  }

  /** A version learned from Redis: versions only move forward. */
  raise(tag: string, v: number, now = Date.now()): void {
    if (v > this.current(tag)) this.versions.set(tag, { v, at: now });
  }

  sweep(now = Date.now()): void {
    for (const [tag, entry] of this.versions) if (now - entry.at > this.forgetAfterMs) this.versions.delete(tag);
  }

  get size(): number {
    return this.versions.size;
  }
}
