import { describe, expect, it } from 'vitest';
import { mean, median, percentile, round, summarize } from '#bench/stats';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is a value that was observed, whatever the order of the samples', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile([...hundred].reverse(), 95)).toBe(95);
  });

  it('takes the lower middle of an even count as the median', () => {
    expect(median([1, 2, 3, 4])).toBe(2);
  });

  it('gives the maximum at 100 and the minimum for a tiny p', () => {
    expect(percentile([3, 9, 1], 100)).toBe(9);
    expect(percentile([3, 9, 1], 0.001)).toBe(1);
  });

  it('p95 of 20 samples is the 19th smallest', () => {
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i),
        95,
      ),
    ).toBe(18);
  });

  it('is NaN for no samples and refuses a p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports count, extremes, median, p95 and mean', () => {
    expect(summarize([4, 8, 6, 2])).toEqual({ count: 4, min: 2, median: 4, p95: 8, max: 8, mean: 5 });
  });

  it('copes with more samples than a spread call could take', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i % 7);
    expect(summarize(many).max).toBe(6);
  });

  it('is NaN throughout for no samples', () => {
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(empty.median).toBeNaN();
    expect(mean([])).toBeNaN();
  });
});

describe('round', () => {
  it('rounds to the given digits and leaves non-finite values alone', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(2.5, 0)).toBe(3);
    expect(round(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
