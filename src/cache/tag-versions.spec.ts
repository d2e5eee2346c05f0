import { TagVersions } from './tag-versions';

const local = (maxTags = 1_000, entryLifeMs = 1_000) => new TagVersions({ shared: false, maxTags, entryLifeMs, bumpMemoryMs: 0 });
const shared = (maxTags = 1_000, entryLifeMs = 1_000) => new TagVersions({ shared: true, maxTags, entryLifeMs, bumpMemoryMs: 0 });

/** A shared-mode instance whose subscription is live and whose `tags` Redis reports at `versions`. */
function confirmedAt(sut: TagVersions, tags: string[], versions: number[], now = 0): void {
  const batch = sut.beginConfirm(tags, now)!;
  sut.endConfirm(batch, batch.tags.map((t) => versions[tags.indexOf(t)]), now);
}

describe('TagVersions, local mode', () => {
  it('trusts never-bumped tags at version 0 and makes entries stale when one of their tags is bumped', () => {
    const sut = local();
    const snap = sut.snapshot(['a', 'b']);

    expect(snap).toMatchObject({ t: [0, 0], trusted: true });
    expect(sut.isCurrent(['a', 'b'], snap.t, snap.s)).toBe(true);
    sut.bump('b');
    expect(sut.isCurrent(['a', 'b'], snap.t, snap.s)).toBe(false);
    expect(sut.unchanged(['a', 'b'], snap.t)).toBe(false);
  });

  it('keeps at most maxTags versions, and an entry stored before a forgotten bump is a miss, never a hit', () => {
    const sut = local(3);
    const before = sut.snapshot(['a']); // stored while 'a' was still at 0
    sut.bump('a');
    for (const tag of ['b', 'c', 'd']) sut.bump(tag);

    expect(sut.size).toBe(3);
    // 'a' was forgotten, so it reads as 0 again: without the floor this entry would look current.
    expect(sut.isCurrent(['a'], before.t, before.s)).toBe(false);
    const after = sut.snapshot(['a', 'e']);
    expect(sut.isCurrent(['a', 'e'], after.t, after.s)).toBe(true);
  });

  it('sweeps only tags older than an entry’s life, oldest first, at most `budget` per call', () => {
    const sut = local(1_000, 1_000);
    for (let i = 0; i < 10; i++) sut.bump(`old${i}`, 0);
    sut.bump('young', 4_500);

    expect(sut.sweep(5_000, 4)).toBe(4);
    expect(sut.size).toBe(7);
    expect(sut.sweep(5_000, 100)).toBe(6);
    expect(sut.size).toBe(1);
    expect(sut.sweep(5_000, 100)).toBe(0);
  });

  it('forgetting by age does not disturb entries loaded since', () => {
    const sut = local(1_000, 1_000);
    sut.bump('a', 0);
    const snap = sut.snapshot(['a', 'b']);
    sut.sweep(5_000);

    expect(sut.isCurrent(['b'], [0], snap.s)).toBe(true);
    expect(sut.isCurrent(['a', 'b'], snap.t, snap.s)).toBe(false);
  });
});

describe('TagVersions, shared mode (Redis)', () => {
  it('trusts nothing until a tag is confirmed while the subscription is live', () => {
    const sut = shared();

    expect(sut.isCurrent(['a'], [0], 0)).toBe(false);
    expect(sut.snapshot(['a']).trusted).toBe(false);
    expect(sut.beginConfirm(['a'])).toBeUndefined();

    sut.setLive(true);
    confirmedAt(sut, ['a', 'b'], [5, 0]);

    expect(sut.isCurrent(['a', 'b'], [5, 0], 0)).toBe(true);
    expect(sut.isCurrent(['a', 'b'], [4, 0], 0)).toBe(false);
    expect(sut.snapshot(['a', 'b'])).toMatchObject({ t: [5, 0], trusted: true });
    expect(sut.beginConfirm(['a', 'b'])).toBeUndefined();
  });

  it('unconfirms every tag when the subscription drops, and still after it is back', () => {
    const sut = shared();
    sut.setLive(true);
    confirmedAt(sut, ['a'], [5]);

    sut.setLive(false);
    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
    sut.setLive(true);
    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
    expect(sut.confirmed(['a'])).toBe(false);
  });

  it('confirms nothing from a read answered after the subscription dropped', () => {
    const sut = shared();
    sut.setLive(true);
    const batch = sut.beginConfirm(['a'])!;
    sut.setLive(false);
    sut.setLive(true);
    sut.endConfirm(batch, [5]);

    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
  });

  it('keeps a newer version published while the read was out over the older one the read returns', () => {
    const sut = shared();
    sut.setLive(true);
    const batch = sut.beginConfirm(['a'])!;
    sut.observe('a', 7);
    sut.endConfirm(batch, [6]);

    expect(sut.isCurrent(['a'], [7], 0)).toBe(true);
    expect(sut.isCurrent(['a'], [6], 0)).toBe(false);
  });

  it('takes Redis’ word when nothing was published meanwhile, even a lower version (an expired key)', () => {
    const sut = shared();
    sut.setLive(true);
    confirmedAt(sut, ['a'], [7]);
    sut.setLive(false);
    sut.setLive(true);
    confirmedAt(sut, ['a'], [0]);

    expect(sut.isCurrent(['a'], [0], 0)).toBe(true);
  });

  it('does not confirm a tag that was forgotten while its read was out', () => {
    const sut = shared(2);
    sut.setLive(true);
    const batch = sut.beginConfirm(['a'])!;
    confirmedAt(sut, ['b', 'c'], [1, 1]); // 'a' is evicted to make room
    sut.endConfirm(batch, [3]);

    expect(sut.isCurrent(['a'], [3], 0)).toBe(false);
    expect(sut.size).toBe(2);
  });

  it('an evicted tag is simply unconfirmed', () => {
    const sut = shared(2);
    sut.setLive(true);
    confirmedAt(sut, ['a'], [3]);
    confirmedAt(sut, ['b', 'c'], [1, 1]);

    expect(sut.isCurrent(['a'], [3], 0)).toBe(false);
    expect(sut.confirmed(['a'])).toBe(false);
  });

  it('stops trusting a tag bumped here at once, and trusts its new version once Redis has it', () => {
    const sut = shared();
    sut.setLive(true);
    confirmedAt(sut, ['a'], [5]);
    const before = sut.snapshot(['a']);

    const gen = sut.bump('a');
    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
    expect(sut.unchanged(['a'], before.t)).toBe(false);
    expect(sut.snapshot(['a']).trusted).toBe(false);
    expect(sut.beginConfirm(['a'])).toBeUndefined();

    sut.bumped(sut.sending(['a'], [gen]), [9]);
    expect(sut.isCurrent(['a'], [9], 0)).toBe(true);
    expect(sut.pendingCount).toBe(0);
  });

  it('keeps a bump Redis did not take pending and hands it out again for a retry', () => {
    const sut = shared();
    sut.setLive(true);
    confirmedAt(sut, ['a'], [5]);
    const gen = sut.bump('a');
    sut.bumpFailed(sut.sending(['a'], [gen]));

    // Redis is back, and a read confirms the old version: the pending bump must not be forgotten.
    expect(sut.beginConfirm(['a'])).toBeUndefined();
    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
    const retry = sut.takeFailed(10)!;
    expect(retry.tags).toEqual(['a']);
    expect(sut.takeFailed(10)).toBeUndefined();

    sut.bumped(retry, [6]);
    expect(sut.isCurrent(['a'], [6], 0)).toBe(true);
  });

  it('does not settle a tag on the answer to an earlier bump while a later one is out', () => {
    const sut = shared();
    sut.setLive(true);
    const first = sut.sending(['a'], [sut.bump('a')]);
    const second = sut.sending(['a'], [sut.bump('a')]);

    sut.bumped(first, [5]);
    expect(sut.isCurrent(['a'], [5], 0)).toBe(false);
    sut.bumped(second, [6]);
    expect(sut.isCurrent(['a'], [6], 0)).toBe(true);
  });

  it('does not lower a version another instance published while this bump was out', () => {
    const sut = shared();
    sut.setLive(true);
    const batch = sut.sending(['a'], [sut.bump('a')]);
    sut.observe('a', 8);
    sut.bumped(batch, [7]);

    expect(sut.isCurrent(['a'], [8], 0)).toBe(true);
  });

  it('after losing a pending bump under the bound, trusts nothing until the rest is in Redis and an entry’s life has passed', () => {
    const sut = shared(2, 1_000);
    sut.setLive(true);
    confirmedAt(sut, ['x'], [1]);
    const gens = ['a', 'b', 'c'].map((t) => sut.bump(t, 0));

    expect(sut.pendingCount).toBe(2);
    expect(sut.isCurrent(['x'], [1], 0)).toBe(false);
    expect(sut.beginConfirm(['x'], 0)).toBeUndefined();

    sut.bumped(sut.sending(['b', 'c'], gens.slice(1)), [4, 4], 100);
    expect(sut.beginConfirm(['x'], 500)).toBeUndefined();
    expect(sut.beginConfirm(['x'], 1_200)).toBeDefined();
  });
});

describe('TagVersions, bump times (replicas)', () => {
  const withMemory = (bumpMemoryMs: number, maxTags = 1_000, isShared = false) =>
    new TagVersions({ shared: isShared, maxTags, entryLifeMs: 60_000, bumpMemoryMs });

  it('answers the last bump time of any of the tags, made here or published elsewhere, and forgets it after the allowance', () => {
    const sut = withMemory(1_000, 1_000, true);
    sut.bump('a', 10_000);
    sut.observe('b', 5, 10_500);
    sut.observe('c', 5, 10_600);

    expect(sut.lastBumpAt(['a'])).toBe(10_000);
    expect(sut.lastBumpAt(['a', 'b'])).toBe(10_500);
    expect(sut.lastBumpAt(['d'])).toBe(0);
    sut.sweep(11_550);
    expect(sut.lastBumpAt(['a', 'b'])).toBe(0);
    expect(sut.lastBumpAt(['c'])).toBe(10_600);
  });

  it('keeps nothing without replicas', () => {
    const sut = withMemory(0);
    sut.bump('a', 10_000);
    expect(sut.lastBumpAt(['a'])).toBe(0);
  });

  it('under the bound, a dropped bump time counts for every tag', () => {
    const sut = withMemory(1_000, 2);
    sut.bump('a', 10_000);
    sut.bump('b', 10_100);
    sut.bump('c', 10_200);
    expect(sut.lastBumpAt(['a'])).toBe(10_000);
    expect(sut.lastBumpAt(['x'])).toBe(10_000);
    expect(sut.lastBumpAt(['c'])).toBe(10_200);
  });

  it('counts bumps missed while the subscription was down as made when it came back', () => {
    const sut = withMemory(1_000, 1_000, true);
    sut.setLive(true, 10_000);
    sut.setLive(false, 20_000);
    sut.setLive(true, 30_000);
    expect(sut.lastBumpAt(['never-heard-of'])).toBe(30_000);
  });

  it('counts a newer version a confirm read before its message arrived as bumped now', () => {
    const sut = withMemory(1_000, 1_000, true);
    sut.setLive(true, 0);
    sut.endConfirm(sut.beginConfirm(['a'], 0)!, [4], 0);
    sut.setLive(false, 0);
    sut.setLive(true, 0);
    sut.endConfirm(sut.beginConfirm(['a'], 5_000)!, [9], 5_000);
    expect(sut.lastBumpAt(['a'])).toBe(5_000);
  });
});
