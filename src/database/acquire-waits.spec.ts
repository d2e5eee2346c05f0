import { AcquireWaits } from './acquire-waits';

describe('AcquireWaits', () => {
  it('keeps totals since start and the latest 256 waits, oldest first', () => {
    const sut = new AcquireWaits();

    for (let ms = 1; ms <= 300; ms++) sut.waited(ms);

    const stats = sut.stats();
    expect(stats).toMatchObject({ count: 300, waitMsTotal: (300 * 301) / 2, waitMsMax: 300 });
    expect(stats.recentWaitsMs).toHaveLength(256);
    expect(stats.recentWaitsMs[0]).toBe(45);
    expect(stats.recentWaitsMs[255]).toBe(300);
  });

  it('reports the waits in order before the buffer is full', () => {
    const sut = new AcquireWaits();

    sut.waited(3);
    sut.waited(1);

    expect(sut.stats()).toMatchObject({ count: 2, waitMsMax: 3, recentWaitsMs: [3, 1] });
  });
});
