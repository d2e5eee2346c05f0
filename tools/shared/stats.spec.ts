import { median, percentile, ratio, round } from './stats';

describe('shared statistics', () => {
  describe('median', () => {
    it('is the middle value of an odd count, in any order', () => {
      expect(median([5, 1, 3])).toBe(3);
      expect(median([7])).toBe(7);
    });

    it('is the mean of the two middle values of an even count', () => {
      expect(median([4, 1, 3, 2])).toBe(2.5);
    });

    it('is NaN for no values and does not reorder its input', () => {
      expect(median([])).toBeNaN();
      const input = [3, 1, 2];
      median(input);
      expect(input).toEqual([3, 1, 2]);
    });
  });

  describe('percentile', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

    it('interpolates linearly between closest ranks (numpy default)', () => {
      expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5, 10);
      expect(percentile(oneToHundred, 95)).toBeCloseTo(95.05, 10);
      expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01, 10);
      expect(percentile([10, 20, 30, 40], 25)).toBeCloseTo(17.5, 10);
    });

    it('has the minimum at p0 and the maximum at p100', () => {
      expect(percentile([9, 2, 7], 0)).toBe(2);
      expect(percentile([9, 2, 7], 100)).toBe(9);
    });

    it('is the value itself for one sample, NaN for none', () => {
      expect(percentile([4.2], 99)).toBe(4.2);
      expect(percentile([], 50)).toBeNaN();
    });

    it('sorts numerically, not as text', () => {
      expect(percentile([100, 9, 20], 50)).toBe(20);
    });

    it('refuses a percentile outside 0..100', () => {
      expect(() => percentile([1], 101)).toThrow(RangeError);
      expect(() => percentile([1], -1)).toThrow(RangeError);
    });
  });

  describe('ratio', () => {
    it('divides, and is NaN when the denominator is not a positive number', () => {
      expect(ratio(6000, 10000)).toBeCloseTo(0.6, 12);
      expect(ratio(1, 0)).toBeNaN();
      expect(ratio(1, -2)).toBeNaN();
      expect(ratio(Number.NaN, 1)).toBeNaN();
    });
  });

  describe('round', () => {
    it('rounds to the given digits and leaves NaN alone', () => {
      expect(round(1.23456)).toBe(1.23);
      expect(round(1.23456, 3)).toBe(1.235);
      expect(round(Number.NaN)).toBeNaN();
    });
  });
});
