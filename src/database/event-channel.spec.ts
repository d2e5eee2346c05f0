import { Logger } from '@nestjs/common';
import { EventChannel } from './event-channel';

describe('EventChannel', () => {
  it('delivers each event to every subscriber, in order', () => {
    const sut = new EventChannel<number>('test.numbers');
    const first: number[] = [];
    const second: number[] = [];
    sut.subscribe((n) => first.push(n));
    sut.subscribe((n) => second.push(n));

    sut.publish(1);
    sut.publish(2);

    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('keeps two channels of the same description apart', () => {
    const a = new EventChannel<string>('test.same');
    const b = new EventChannel<string>('test.same');
    const seen: string[] = [];
    a.subscribe((e) => seen.push(`a:${e}`));
    b.subscribe((e) => seen.push(`b:${e}`));

    a.publish('x');

    expect(seen).toEqual(['a:x']);
  });

  it('says whether anyone listens', () => {
    const sut = new EventChannel<number>('test.listened');
    expect(sut.hasSubscribers).toBe(false);

    sut.subscribe(() => undefined);

    expect(sut.hasSubscribers).toBe(true);
  });

  it('logs a failing subscriber and still runs the others, without throwing at the publisher', () => {
    const sut = new EventChannel<number>('test.failing');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const seen: number[] = [];
    sut.subscribe(() => {
      throw new Error('broken subscriber');
    });
    sut.subscribe((n) => seen.push(n));

    expect(() => sut.publish(7)).not.toThrow();

    expect(seen).toEqual([7]);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ msg: 'event subscriber failed', channel: 'test.failing' }));
    warn.mockRestore();
  });
});
